/**
 * Command lines for a codex attached to an app-server (live mode, docs/codex-app-server.md §2):
 *
 *   codex [opts] --remote URL --remote-auth-token-env VAR -C <dir> [PROMPT]     (the TUI)
 *   codex [opts] resume <id> … --remote URL --remote-auth-token-env VAR -C <dir>
 *   codex exec --remote URL --remote-auth-token-env VAR [output opts] [PROMPT | resume <id> PROMPT]
 *
 * What codex refuses next to `--remote`, observed on 0.171: the TUI takes its usual options but
 * not `--no-daemon` (dropped: there is no daemon then) nor `--add-dir`; `exec --remote` takes only
 * the prompt, a resume by id and output options (`--json`, `-o`, `--color`, and
 * `--skip-git-repo-check`), and refuses the rest with "configure the agent on the server". So an
 * exec's `-c` overrides and `-C` directory are given to the app-server instead (`serverOptions`),
 * and a command line with anything else runs in relaunch mode (`remoteRefusal` says why).
 */
import path from "node:path";
import {
  EXEC_LEVEL,
  EXEC_RESUME_LEVEL,
  RESUME_LEVEL,
  TOP_LEVEL,
  scanLevel,
  type LevelSpec,
  type ScanItem,
} from "./arg-scan.js";
import { classifyArgs, insertOptions, type ClassifiedArgs } from "./args.js";
import { resumeArgs } from "./resume-args.js";

export interface RemoteTarget {
  /** `--remote <url> --remote-auth-token-env <VAR>` (LiveController.attachArgs). */
  readonly attach: readonly string[];
  /** The session's project directory (the TUI's `-C`; without it the thread works in the server's). */
  readonly cwd: string;
}

/** exec options `exec --remote` accepts as they are. */
const EXEC_KEPT = new Set([
  "--json",
  "-o",
  "--output-last-message",
  "--color",
  "--skip-git-repo-check",
]);
/** Options that configure the agent: the app-server gets them (exec only). */
const SERVER_SIDE = new Set(["-c", "--config", "-C", "--cd"]);
/** TUI options codex refuses next to `--remote`. */
const TUI_REFUSED = new Set(["--add-dir"]);

function isExec(args: ClassifiedArgs): boolean {
  return args.kind === "exec" || args.kind === "exec-resume";
}

interface Level {
  readonly spec: LevelSpec;
  readonly items: readonly ScanItem[];
}

/** Every option level of the command line, scanned with its own flag table. */
function levels(args: ClassifiedArgs): Level[] {
  const { argv } = args;
  const out: Level[] = [{ spec: TOP_LEVEL, items: scanLevel(argv, 0, TOP_LEVEL, true).items }];
  if (args.commandIndex === -1) return out;
  if (args.kind === "resume" || args.kind === "fork") {
    out.push({
      spec: RESUME_LEVEL,
      items: scanLevel(argv, args.commandIndex + 1, RESUME_LEVEL, false).items,
    });
  }
  if (isExec(args)) {
    out.push({
      spec: EXEC_LEVEL,
      items: scanLevel(argv, args.commandIndex + 1, EXEC_LEVEL, true).items,
    });
    if (args.subcommandIndex !== -1) {
      out.push({
        spec: EXEC_RESUME_LEVEL,
        items: scanLevel(argv, args.subcommandIndex + 1, EXEC_RESUME_LEVEL, false).items,
      });
    }
  }
  return out;
}

function options(args: ClassifiedArgs): { name: string; start: number; end: number }[] {
  return levels(args).flatMap((level) =>
    level.items.flatMap((item) => (item.kind === "option" ? [item] : [])),
  );
}

/**
 * Why this command line cannot run attached to an app-server, in a few words for the user; null
 * when it can.
 */
export function remoteRefusal(args: ClassifiedArgs): string | null {
  const given = options(args);
  if (given.some((o) => o.name === "--remote"))
    return "it names an app-server of its own (--remote)";
  if (!isExec(args)) {
    const refused = given.find((o) => TUI_REFUSED.has(o.name));
    return refused === undefined ? null : `codex --remote does not take ${refused.name}`;
  }
  if (args.kind === "exec" && args.subcommandIndex !== -1) {
    return `codex exec --remote does not run \`exec ${args.argv[args.subcommandIndex] ?? ""}\``;
  }
  if (args.kind === "exec-resume" && (args.last || args.sessionId === null)) {
    return "codex exec --remote resumes a session by id only (not --last)";
  }
  const refused = given.find((o) => !EXEC_KEPT.has(o.name) && !SERVER_SIDE.has(o.name));
  return refused === undefined ? null : `codex exec --remote does not take ${refused.name}`;
}

/** The value of an option item (`-c k=v`, `-ck=v`, `--config=k=v`). */
function valueOf(
  argv: readonly string[],
  item: { name: string; start: number; end: number },
): string {
  const token = argv[item.start] ?? "";
  if (item.end > item.start + 1) return argv[item.start + 1] ?? "";
  if (token.startsWith("--")) return token.slice(token.indexOf("=") + 1);
  return token.slice(2);
}

/**
 * What an exec command line says about the agent, for the app-server it will attach to: its `-c`
 * overrides (in order, as `-c` pairs) and its `-C` directory (resolved against `cwd`; the last one
 * wins, as in codex).
 */
export function serverOptions(
  args: ClassifiedArgs,
  cwd: string,
): { config: string[]; cwd: string } {
  const config: string[] = [];
  let dir = cwd;
  if (!isExec(args)) return { config, cwd };
  for (const item of options(args)) {
    if (item.name === "-c" || item.name === "--config") config.push("-c", valueOf(args.argv, item));
    if (item.name === "-C" || item.name === "--cd") {
      dir = path.resolve(cwd, valueOf(args.argv, item));
    }
  }
  return { config, cwd: dir };
}

/** The indices of the options named in `drop` (values included), at every level. */
function indicesOf(args: ClassifiedArgs, drop: ReadonlySet<string>): Set<number> {
  const gone = new Set<number>();
  for (const item of options(args)) {
    if (!drop.has(item.name)) continue;
    for (let i = item.start; i < item.end; i++) gone.add(i);
  }
  return gone;
}

/** The argv without the options named in `drop` (at every level). */
function without(args: ClassifiedArgs, drop: ReadonlySet<string>): string[] {
  const gone = indicesOf(args, drop);
  return args.argv.filter((_, i) => !gone.has(i));
}

/**
 * The argv of a codex attached to the relay (check `remoteRefusal` first): the user's own command
 * line (`resume` null), or a resume of the session with, for exec, the prompt to run. A TUI's
 * continuation is not on its command line: it is submitted as a turn once the TUI is attached.
 * `overrides`: our `-c` flags for the TUI (exec takes none).
 */
export function remoteClientArgv(
  args: ClassifiedArgs,
  target: RemoteTarget,
  resume: { sessionId: string; prompt: string | null } | null,
  overrides: readonly string[],
): string[] {
  const base =
    resume === null
      ? args
      : classifyArgs(
          resumeArgs(args, resume.sessionId, {
            remote: true,
            ...(resume.prompt !== null && isExec(args) ? { prompt: resume.prompt } : {}),
          }),
        );
  if (isExec(base)) {
    // Right after `exec`: an exec-level option, before any subcommand or prompt.
    const gone = indicesOf(base, SERVER_SIDE);
    const argv = base.argv.filter((_, i) => !gone.has(i));
    const before = [...gone].filter((i) => i < base.commandIndex).length;
    const after = base.commandIndex - before + 1;
    return [...argv.slice(0, after), ...target.attach, ...argv.slice(after)];
  }
  const trimmed = classifyArgs(without(base, new Set(["--no-daemon"])));
  const hasDir = options(trimmed).some((o) => o.name === "-C" || o.name === "--cd");
  return insertOptions(trimmed, [
    ...overrides,
    ...target.attach,
    ...(hasDir ? [] : ["-C", target.cwd]),
  ]);
}
