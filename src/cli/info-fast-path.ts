/**
 * `codex-pool run -- --version` (and `--help`, `-V`, `-h`): codex's own answer, reached without
 * loading commander, the pool store or zod, so the start-up stays close to the npm `codex`
 * launcher's (docs/decisions.md performance targets). It does exactly what `run` does for top-level info
 * (runPlain in commands/run.ts): settings, the codex binary, the child environment, the argv
 * untouched, and the child's exit code. Anything else returns null and takes the normal path.
 */
import type { Env } from "../platform/paths.js";

const INFO_FLAGS = new Set(["--version", "-V", "--help", "-h"]);

/** The codex arguments of a `run` this path can answer, or null. `argv` starts at the command. */
export function infoArgs(argv: readonly string[]): string[] | null {
  if (argv[0] !== "run") return null;
  if (argv[1] === "--") return argv.slice(2);
  // Without `--`, only the bare `run --version` form: anything more is commander's to parse.
  if (argv.length === 2 && INFO_FLAGS.has(argv[1] ?? "")) return argv.slice(1);
  return null;
}

/** Runs codex for top-level info and returns its exit code, or null when this is not that case. */
export async function runInfoFastPath(argv: readonly string[], env: Env): Promise<number | null> {
  const codexArgs = infoArgs(argv);
  if (codexArgs === null) return null;
  const { classifyArgs } = await import("../codex/args.js");
  const args = classifyArgs(codexArgs);
  if (!args.topLevelInfo) return null;
  const [
    { loadSettings },
    { resolveCodexBinary },
    { buildChildEnv },
    { relaySignals, spawnCodex },
  ] = await Promise.all([
    import("../platform/settings.js"),
    import("../codex/binary.js"),
    import("../codex/child-env.js"),
    import("../codex/spawn.js"),
  ]);
  const { settings } = loadSettings({ env, flags: {} });
  const binary = resolveCodexBinary(env, settings);
  const childEnv = buildChildEnv({
    base: env,
    settings,
    codexHome: settings.codexHome,
    extra: binary.env,
  });
  const { child, exited } = spawnCodex({ binary, args: [...args.argv], env: childEnv });
  const release = relaySignals(child, process);
  try {
    return (await exited).code128;
  } finally {
    release();
  }
}
