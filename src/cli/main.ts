#!/usr/bin/env node
/**
 * The one exit path (STYLE.md rule 19): commands return exit codes or throw; only this file
 * prints errors and calls process.exit.
 */
import { ExitCode, errorMessage, isCodexPoolError } from "../platform/errors.js";
import type * as FastPath from "./info-fast-path.js";

type FastPathModule = typeof FastPath;

const debug = process.argv.includes("--debug") || process.env["CODEX_POOL_DEBUG"] === "1";

/** One line on stderr for any error; the redaction module is loaded only when there is one. */
async function report(error: unknown): Promise<number> {
  const { redact } = await import("../platform/redact.js");
  if (isCodexPoolError(error)) {
    process.stderr.write(redact(`codex-pool: ${error.message}`) + "\n");
    if (debug && error.stack) process.stderr.write(redact(error.stack) + "\n");
    return error.exitCode;
  }
  process.stderr.write(
    redact(`codex-pool: unexpected error: ${errorMessage(error)} (run with --debug for details)`) +
      "\n",
  );
  if (debug && error instanceof Error && error.stack)
    process.stderr.write(redact(error.stack) + "\n");
  return ExitCode.failed;
}

/** Every command but the start-up-critical `run -- --version`: commander, then the handler. */
async function runProgram(): Promise<number> {
  // Loaded here, not at the top, so the fast path below never pays for commander.
  const [{ CommanderError }, { buildProgram }] = await Promise.all([
    import("commander"),
    import("./program.js"),
  ]);
  let code: number = ExitCode.ok;
  const program = buildProgram({
    async invoke(load, args, flags) {
      try {
        const { createContext } = await import("./context.js");
        const handler = await load();
        const ctx = createContext({ flags });
        try {
          code = await handler(ctx, ...(args as never[]));
        } finally {
          await ctx.store.close(); // a database pool's connections would hold the process open
        }
      } catch (error) {
        code = await report(error);
      }
    },
  });
  program.exitOverride();
  try {
    await program.parseAsync(process.argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version exit 0; usage errors were already printed by commander.
      code = error.exitCode === 0 ? 0 : ExitCode.usage;
    } else {
      code = await report(error);
    }
  }
  return code;
}

// `codex-pool list | head`: a reader that goes away is not an error worth a stack trace.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
  process.stderr.write(`codex-pool: cannot write output: ${error.message}\n`);
  process.exit(ExitCode.failed);
});

/**
 * `run -- --version` is measured against the bare codex launcher, so its path is also built as one
 * bundled file (package.json "build"): one module to load instead of a dozen. The plain module is
 * the fallback when the bundle is absent (e.g. a build without it).
 */
async function loadFastPath(): Promise<FastPathModule> {
  const bundle = "./info-fast-path.bundle.js";
  try {
    return (await import(bundle)) as FastPathModule;
  } catch {
    return import("./info-fast-path.js");
  }
}

let exitCode: number;
try {
  const { runInfoFastPath } = await loadFastPath();
  exitCode = (await runInfoFastPath(process.argv.slice(2), process.env)) ?? (await runProgram());
} catch (error) {
  exitCode = await report(error);
}
process.exitCode = exitCode;
