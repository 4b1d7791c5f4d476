#!/usr/bin/env node
/**
 * The one exit path (docs/style.md rule 19): commands return exit codes or throw; only this file
 * prints errors and calls process.exit. Errors are reported by failure.ts: one line, or with
 * `--json` one JSON object on stderr.
 */
import type * as FastPath from "./info-fast-path.js";

type FastPathModule = typeof FastPath;

const argv = process.argv.slice(2);
const debug = argv.includes("--debug") || process.env["CODEX_POOL_DEBUG"] === "1";

/** Reports an error on stderr and returns its exit code; the module is loaded only when needed. */
async function report(error: unknown, json: boolean): Promise<number> {
  const { reportFailure } = await import("./failure.js");
  return reportFailure(error, { json, debug, stderr: process.stderr });
}

/** Every command but the start-up-critical `run -- --version`: commander, then the handler. */
async function runProgram(): Promise<number> {
  // Loaded here, not at the top, so the fast path below loads nothing it does not use.
  const [{ CommanderError }, { buildProgram }, { jsonRequested }, { ExitCode, UsageError }] =
    await Promise.all([
      import("commander"),
      import("./program.js"),
      import("./declarations.js"),
      import("../platform/errors.js"),
    ]);
  // `codex-pool list | head`: a reader that goes away is not an error worth a stack trace. (On the
  // fast path codex writes to the inherited stdout itself; we write nothing there.)
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") process.exit(process.exitCode ?? ExitCode.ok);
    process.stderr.write(`codex-pool: cannot write output: ${error.message}\n`);
    process.exit(ExitCode.failed);
  });
  const json = jsonRequested(argv);
  let code: number = ExitCode.ok;
  const program = buildProgram(
    {
      async invoke(command, flags) {
        try {
          const { createContext } = await import("./context.js");
          const ctx = createContext({ flags, json });
          try {
            code = await command.run(ctx);
          } finally {
            await ctx.store.close(); // a database pool's connections would hold the process open
          }
          // With --json the product is written only now: a failure leaves stdout empty.
          ctx.out.commit();
        } catch (error) {
          code = await report(error, json);
        }
      },
    },
    { json },
  );
  try {
    await program.parseAsync(process.argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version exit 0; commander printed a usage error already (unless --json).
      if (error.exitCode === 0) return ExitCode.ok;
      if (!json) return ExitCode.usage;
      return report(new UsageError(error.message.replace(/^error: /, "")), json);
    }
    code = await report(error, json);
  }
  return code;
}

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
  exitCode = (await runInfoFastPath(argv, process.env)) ?? (await runProgram());
} catch (error) {
  exitCode = await report(error, false);
}
process.exitCode = exitCode;
