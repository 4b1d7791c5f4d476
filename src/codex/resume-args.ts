/**
 * The command line that continues a session the way the caller launched codex: relaunch mode's
 * `codex resume <id>` under the next account, and the resume a live TUI attaches with
 * (remote-args.ts). Apart from args.ts, which reads the caller's command line and only adds to
 * it: this one is new, rebuilt from the classification without what a relaunch must not repeat.
 */
import { CodexPoolError } from "../platform/errors.js";
import {
  EXEC_LEVEL,
  EXEC_RESUME_LEVEL,
  RESUME_LEVEL,
  optionTokens,
  scanLevel,
} from "./arg-scan.js";
import type { ClassifiedArgs } from "./args.js";
import { parseSessionId } from "./session-id.js";

/** Options a relaunch must not repeat: images belong to the first prompt only. */
const DROP_ON_RESUME = new Set(["-i", "--image"]);
/** Options that pick the session; the relaunch names it by id instead. */
const SESSION_PICKERS = new Set(["--last", "--all", "--include-non-interactive"]);

function dropOptions(
  tokens: readonly string[],
  level: "top" | "resume" | "exec" | "exec-resume",
  also: readonly string[] = [],
): string[] {
  // Re-scan the option tokens alone, so values are dropped with their flags.
  const spec =
    level === "exec" ? EXEC_LEVEL : level === "exec-resume" ? EXEC_RESUME_LEVEL : RESUME_LEVEL;
  const scan = scanLevel(tokens, 0, spec, false);
  const drop = new Set([
    ...also,
    ...DROP_ON_RESUME,
    ...(level === "resume" || level === "exec-resume" ? SESSION_PICKERS : []),
  ]);
  return optionTokens(tokens, scan.items, drop);
}

export interface ResumeOptions {
  /** A prompt to submit at once (e.g. the continuation prompt after a usage-limit switch). */
  prompt?: string;
  /**
   * The TUI will attach to an app-server (`--remote`, live mode): no `--no-daemon`, which codex
   * refuses next to `--remote` (docs/codex-app-server.md §2); there is no daemon to avoid then.
   */
  remote?: boolean;
}

/**
 * The argv that continues `sessionId` the way the caller launched codex, keeping their global and
 * exec flags (model, -c, --json, --skip-git-repo-check, …):
 *   codex [globals] resume <id> [resume opts] --no-daemon --disable cli_resume_account_check [-- prompt]
 *   codex [globals] exec [exec opts] resume [resume opts] <id> [-- prompt]
 * `--no-daemon` keeps auth out of a shared app-server daemon (docs/codex-cli.md §5.4) and the feature
 * switch keeps resume working across accounts should its default ever flip (§3).
 */
export function resumeArgs(
  classified: ClassifiedArgs,
  sessionId: string,
  options: ResumeOptions = {},
): string[] {
  const id = parseSessionId(sessionId);
  const remoteDrops = options.remote === true ? ["--no-daemon"] : [];
  const globals = dropOptions(classified.globalOptions, "top", remoteDrops);
  const promptPart = options.prompt !== undefined ? ["--", options.prompt] : [];
  switch (classified.kind) {
    case "exec":
    case "exec-resume": {
      const spelled = classified.argv[classified.commandIndex] ?? "exec";
      const execOpts = dropOptions(classified.execOptions, "exec");
      const resumeOpts =
        classified.kind === "exec-resume"
          ? dropOptions(classified.resumeOptions, "exec-resume")
          : [];
      const resumeWord =
        classified.kind === "exec-resume"
          ? (classified.argv[classified.subcommandIndex] ?? "resume")
          : "resume";
      return [...globals, spelled, ...execOpts, resumeWord, ...resumeOpts, id, ...promptPart];
    }
    case "interactive":
    case "resume":
    case "fork": {
      const resumeOpts =
        classified.kind === "interactive"
          ? []
          : dropOptions(classified.resumeOptions, "resume", remoteDrops);
      const all = [...globals, ...resumeOpts];
      const noDaemon =
        all.includes("--no-daemon") || options.remote === true ? [] : ["--no-daemon"];
      return [
        ...globals,
        "resume",
        id,
        ...resumeOpts,
        ...noDaemon,
        "--disable",
        "cli_resume_account_check",
        ...promptPart,
      ];
    }
    case "passthrough":
      throw new CodexPoolError(
        `cannot resume a session from \`codex ${classified.argv.join(" ")}\``,
      );
  }
}
