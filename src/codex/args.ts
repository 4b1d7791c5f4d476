/**
 * Classifies a codex command line without losing a byte of it, and places our own options in it
 * (the resume of a session under another account is built from a classification in
 * resume-args.ts). The caller's tokens are never rewritten: a subcommand is matched
 * case-insensitively but kept as spelled (docs/supervisor-rules.md R20).
 *
 *   codex [opts] [PROMPT]                          → interactive
 *   codex [opts] resume|fork [opts] [ID|--last] [PROMPT] → resume | fork
 *   codex [opts] exec|e [opts] [PROMPT]            → exec (also exec fork/review/help)
 *   codex [opts] exec [opts] resume [opts] [ID|--last] [PROMPT] → exec-resume
 *   anything else (login, mcp, app-server, --version, --help, …) → passthrough
 */
import {
  EXEC_LEVEL,
  EXEC_RESUME_LEVEL,
  OPAQUE_LEVEL,
  RESUME_LEVEL,
  TOP_LEVEL,
  hasInfoFlag,
  hasOption,
  optionTokens,
  positionals,
  scanLevel,
  type ScanItem,
} from "./arg-scan.js";

export const LAUNCH_KINDS = [
  "interactive",
  "resume",
  "fork",
  "exec",
  "exec-resume",
  "passthrough",
] as const;
export type LaunchKind = (typeof LAUNCH_KINDS)[number];

export interface ClassifiedArgs {
  readonly kind: LaunchKind;
  /** The caller's argv, untouched: rebuildArgs returns exactly this. */
  readonly argv: readonly string[];
  /** Index of the top-level subcommand token (as spelled), or -1. */
  readonly commandIndex: number;
  /** Index of `exec`'s own subcommand (`resume`, `fork`, …), or -1. */
  readonly subcommandIndex: number;
  /** The top-level subcommand, lower-case with aliases expanded (`e` → `exec`), or null. */
  readonly command: string | null;
  /** Option tokens of the top level (values included), in order. */
  readonly globalOptions: readonly string[];
  /** Option tokens of `exec` (before and after its prompt), for exec and exec-resume. */
  readonly execOptions: readonly string[];
  /** Option tokens of `resume`/`fork`/`exec resume`. */
  readonly resumeOptions: readonly string[];
  /** The session id positional as given (unvalidated), for resume, fork and exec-resume. */
  readonly sessionId: string | null;
  readonly last: boolean;
  /** The prompt positional, if any. */
  readonly prompt: string | null;
  /** --help/-h/--version/-V at the top level, before any positional and any `--`. */
  readonly topLevelInfo: boolean;
  /** --help/--version given to the subcommand (e.g. `exec --help`): not a session either. */
  readonly subcommandInfo: boolean;
  /** Absolute index of the `--` that ended option parsing, or -1. */
  readonly separatorIndex: number;
}

const ALIASES: Readonly<Record<string, string>> = { e: "exec", a: "apply" };

function separatorOf(items: readonly ScanItem[]): number {
  const sep = items.find((i) => i.kind === "separator");
  return sep?.kind === "separator" ? sep.index : -1;
}

/** What the part after `resume`/`fork`/`exec resume` says, as ClassifiedArgs names it. */
type SessionPart = Pick<
  ClassifiedArgs,
  "resumeOptions" | "sessionId" | "last" | "prompt" | "subcommandInfo" | "separatorIndex"
>;

/** `[ID] [PROMPT]`, or `[PROMPT]` with --last (codex reads the one positional as the prompt). */
function sessionPart(argv: readonly string[], start: number, exec: boolean): SessionPart {
  const spec = exec ? EXEC_RESUME_LEVEL : RESUME_LEVEL;
  const scan = scanLevel(argv, start, spec, false);
  const pos = positionals(argv, scan.items);
  const last = hasOption(scan.items, "--last");
  return {
    resumeOptions: optionTokens(argv, scan.items),
    sessionId: last ? null : (pos[0] ?? null),
    last,
    prompt: (last ? pos[0] : pos[1]) ?? null,
    subcommandInfo: hasInfoFlag(argv, scan.items, spec),
    separatorIndex: separatorOf(scan.items),
  };
}

export function classifyArgs(argv: readonly string[]): ClassifiedArgs {
  const args = [...argv];
  const top = scanLevel(args, 0, TOP_LEVEL, true);
  const topLevelInfo = hasInfoFlag(args, top.items, TOP_LEVEL);
  const base = {
    argv: args,
    commandIndex: top.commandIndex,
    subcommandIndex: -1,
    globalOptions: optionTokens(args, top.items),
    execOptions: [] as string[],
    resumeOptions: [] as string[],
    sessionId: null as string | null,
    last: false,
    prompt: null as string | null,
    topLevelInfo,
    subcommandInfo: false,
  };
  if (top.commandIndex === -1) {
    const prompt = positionals(args, top.items)[0] ?? null;
    return {
      ...base,
      kind: topLevelInfo ? "passthrough" : "interactive",
      command: null,
      prompt,
      separatorIndex: separatorOf(top.items),
    };
  }
  const spelled = (args[top.commandIndex] ?? "").trim().toLowerCase();
  const command = ALIASES[spelled] ?? spelled;
  if (topLevelInfo) {
    return { ...base, kind: "passthrough", command, separatorIndex: -1 };
  }
  if (command === "resume" || command === "fork") {
    return { ...base, kind: command, command, ...sessionPart(args, top.commandIndex + 1, false) };
  }
  if (command === "exec") {
    const exec = scanLevel(args, top.commandIndex + 1, EXEC_LEVEL, true);
    const execOptions = optionTokens(args, exec.items);
    const execInfo = hasInfoFlag(args, exec.items, EXEC_LEVEL);
    const sub =
      exec.commandIndex === -1 ? null : (args[exec.commandIndex] ?? "").trim().toLowerCase();
    if (sub === "resume" && !execInfo) {
      return {
        ...base,
        kind: "exec-resume",
        command,
        subcommandIndex: exec.commandIndex,
        execOptions,
        ...sessionPart(args, exec.commandIndex + 1, true),
      };
    }
    if (sub !== null) {
      // exec fork/review/help: kept whole; the session (if any) is found by its rollout file.
      const rest = scanLevel(args, exec.commandIndex + 1, OPAQUE_LEVEL, false);
      return {
        ...base,
        kind: "exec",
        command,
        subcommandIndex: exec.commandIndex,
        execOptions,
        subcommandInfo: execInfo || sub === "help",
        separatorIndex: separatorOf(rest.items),
      };
    }
    return {
      ...base,
      kind: "exec",
      command,
      execOptions,
      prompt: positionals(args, exec.items)[0] ?? null,
      subcommandInfo: execInfo,
      separatorIndex: separatorOf(exec.items),
    };
  }
  const rest = scanLevel(args, top.commandIndex + 1, OPAQUE_LEVEL, false);
  return { ...base, kind: "passthrough", command, separatorIndex: separatorOf(rest.items) };
}

/** The argv a classification came from, token for token. */
export function rebuildArgs(classified: ClassifiedArgs): string[] {
  return [...classified.argv];
}

/** True for launches that start or continue a conversation (what the supervisor watches). */
export function isSessionLaunch(c: ClassifiedArgs): boolean {
  return c.kind !== "passthrough" && !c.subcommandInfo;
}

/**
 * Inserts options of ours (config overrides) so that they come after the caller's own `-c` flags
 * of the deepest level (codex applies root `-c` first, then the subcommand's, so later wins —
 * docs/decisions.md decision 10), but never after a `--`, where they would become positionals. For other
 * subcommands (login, mcp, …) they go right before the subcommand: root `-c` is always accepted,
 * a subcommand's own parser may not know it.
 */
export function insertOptions(classified: ClassifiedArgs, options: readonly string[]): string[] {
  const argv = [...classified.argv];
  let at: number;
  if (classified.kind === "passthrough" && classified.commandIndex !== -1)
    at = classified.commandIndex;
  else if (classified.separatorIndex !== -1) at = classified.separatorIndex;
  else at = argv.length;
  argv.splice(at, 0, ...options);
  return argv;
}
