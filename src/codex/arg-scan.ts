/**
 * A clap-like scanner for one level of a codex command line (the top level, `exec`, `resume`, …).
 * It knows which options take a value, so `-m o3`, `-c key=value` or `-p prof` never look like a
 * subcommand or a prompt (docs/supervisor-rules.md R20, O7). Flag tables are from `codex <cmd> --help`
 * of 0.169.0; an unknown flag is treated as a switch without a value, which is what clap would
 * reject anyway.
 */

export interface LevelSpec {
  /** Options that take exactly one value: `--model o3`, `-m o3`, `-mo3`, `--model=o3`. */
  readonly value: ReadonlySet<string>;
  /** Options that take one or more values and swallow every following non-flag token (`-i a b`). */
  readonly multi: ReadonlySet<string>;
  /** Subcommands recognised at this level, lower-case (matched case-insensitively). */
  readonly commands: ReadonlySet<string>;
}

export type ScanItem =
  | { readonly kind: "option"; readonly name: string; readonly start: number; readonly end: number }
  | { readonly kind: "positional"; readonly index: number }
  | { readonly kind: "separator"; readonly index: number };

export interface ScanResult {
  readonly items: readonly ScanItem[];
  /** Absolute index of the subcommand token that ended the scan, or -1. */
  readonly commandIndex: number;
}

const TUI_VALUE = [
  "-c", "--config", "--enable", "--disable", "--remote", "--remote-auth-token-env", "-m", "--model",
  "--local-provider", "-p", "--profile", "-s", "--sandbox", "-C", "--cd", "--add-dir", "-a",
  "--ask-for-approval",
]; // prettier-ignore

export const TOP_LEVEL: LevelSpec = {
  value: new Set(TUI_VALUE),
  multi: new Set(["-i", "--image"]),
  commands: new Set([
    "agents", "exec", "e", "review", "login", "logout", "mcp", "plugin", "app-server",
    "remote-control", "completion", "update", "doctor", "sandbox", "debug", "apply", "a", "resume",
    "queue", "archive", "delete", "migrate-rollouts", "migrate-nfs-db", "unarchive", "fork", "cloud",
    "exec-server", "features", "help", "mcp-server", "responses-api-proxy", "stdio-to-uds",
  ]), // prettier-ignore
};

/** `codex resume …` and `codex fork …` take the TUI's options plus --last/--all. */
export const RESUME_LEVEL: LevelSpec = {
  value: new Set(TUI_VALUE),
  multi: new Set(["-i", "--image"]),
  commands: new Set(),
};

/** `--remote` and `--remote-auth-token-env` are new on `codex exec` in 0.171 (docs/codex-cli.md). */
export const EXEC_LEVEL: LevelSpec = {
  value: new Set([
    "-c", "--config", "--enable", "--disable", "-m", "--model", "--local-provider", "-p", "--profile",
    "-s", "--sandbox", "-C", "--cd", "--add-dir", "--thread-source", "--cyber-access-program",
    "--output-schema", "--color", "-o", "--output-last-message", "--remote", "--remote-auth-token-env",
  ]), // prettier-ignore
  multi: new Set(["-i", "--image"]),
  commands: new Set(["resume", "fork", "review", "help"]),
};

export const EXEC_RESUME_LEVEL: LevelSpec = {
  value: new Set([
    "-c", "--config", "--enable", "--disable", "-i", "--image", "-m", "--model", "--thread-source",
    "--cyber-access-program", "--output-schema", "-o", "--output-last-message", "--remote",
    "--remote-auth-token-env",
  ]), // prettier-ignore
  multi: new Set(),
  commands: new Set(),
};

/** Any other subcommand: only `--` matters, and every token is kept as it is. */
export const OPAQUE_LEVEL: LevelSpec = { value: new Set(), multi: new Set(), commands: new Set() };

function isFlagLike(token: string): boolean {
  return token.length > 1 && token.startsWith("-");
}

/**
 * Scans argv[start…] at one level. With `stopAtCommand`, the first positional that names a
 * subcommand of this level ends the scan (its index is returned); a first positional that does
 * not is a prompt, and later positionals are never subcommands (clap's rule).
 */
export function scanLevel(
  argv: readonly string[],
  start: number,
  spec: LevelSpec,
  stopAtCommand: boolean,
): ScanResult {
  const items: ScanItem[] = [];
  let sawPositional = false;
  let i = start;
  const swallowMulti = (from: number): number => {
    let j = from;
    while (j < argv.length && !isFlagLike(argv[j] ?? "")) j++;
    return j;
  };
  while (i < argv.length) {
    const token = argv[i] ?? "";
    if (token === "--") {
      items.push({ kind: "separator", index: i });
      for (let j = i + 1; j < argv.length; j++) items.push({ kind: "positional", index: j });
      return { items, commandIndex: -1 };
    }
    if (token.startsWith("--") && token.length > 2) {
      const eq = token.indexOf("=");
      const name = eq === -1 ? token : token.slice(0, eq);
      let end = i + 1;
      if (eq === -1 && spec.value.has(name)) end = Math.min(i + 2, argv.length);
      else if (spec.multi.has(name)) end = swallowMulti(i + 1);
      items.push({ kind: "option", name, start: i, end });
      i = end;
      continue;
    }
    if (isFlagLike(token)) {
      // A cluster of short flags (`-hV`); the first one that takes a value takes the rest of the
      // token, or the next token when nothing follows it.
      let end = i + 1;
      let name = token.slice(0, 2);
      for (let k = 1; k < token.length; k++) {
        const short = `-${token[k] ?? ""}`;
        if (spec.value.has(short) || spec.multi.has(short)) {
          name = short;
          if (k === token.length - 1 && spec.value.has(short)) end = Math.min(i + 2, argv.length);
          if (spec.multi.has(short)) end = swallowMulti(i + 1);
          break;
        }
      }
      items.push({ kind: "option", name, start: i, end });
      i = end;
      continue;
    }
    if (stopAtCommand && !sawPositional && spec.commands.has(token.trim().toLowerCase())) {
      return { items, commandIndex: i };
    }
    sawPositional = true;
    items.push({ kind: "positional", index: i });
    i++;
  }
  return { items, commandIndex: -1 };
}

/** The option tokens of a scan (values included), in order: what a rebuilt argv keeps. */
export function optionTokens(
  argv: readonly string[],
  items: readonly ScanItem[],
  drop: ReadonlySet<string> = new Set(),
): string[] {
  const out: string[] = [];
  for (const item of items) {
    if (item.kind === "option" && !drop.has(item.name))
      out.push(...argv.slice(item.start, item.end));
  }
  return out;
}

export function positionals(argv: readonly string[], items: readonly ScanItem[]): string[] {
  return items.flatMap((item) => (item.kind === "positional" ? [argv[item.index] ?? ""] : []));
}

export function hasOption(items: readonly ScanItem[], ...names: string[]): boolean {
  return items.some((item) => item.kind === "option" && names.includes(item.name));
}

/** --help/-h/--version/-V given as an option of this level (also inside a cluster like `-hV`). */
export function hasInfoFlag(
  argv: readonly string[],
  items: readonly ScanItem[],
  spec: LevelSpec,
): boolean {
  return items.some((item) => {
    if (item.kind !== "option") return false;
    const token = argv[item.start] ?? "";
    if (token.startsWith("--")) return item.name === "--help" || item.name === "--version";
    for (let k = 1; k < token.length; k++) {
      const short = `-${token[k] ?? ""}`;
      if (short === "-h" || short === "-V") return true;
      if (spec.value.has(short) || spec.multi.has(short)) return false; // the rest is a value
    }
    return false;
  });
}
