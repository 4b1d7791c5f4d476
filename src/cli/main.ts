#!/usr/bin/env node
/**
 * The one exit path (STYLE.md rule 19): commands return exit codes or throw; only this file
 * prints errors and calls process.exit.
 */
import { CommanderError } from "commander";
import { CodexPoolError, ExitCode, errorMessage } from "../platform/errors.js";
import { redact } from "../platform/redact.js";
import { buildProgram } from "./program.js";

let exitCode: number = ExitCode.ok;
const debug = process.argv.includes("--debug") || process.env["CODEX_POOL_DEBUG"] === "1";

function report(error: unknown): number {
  if (error instanceof CodexPoolError) {
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

const program = buildProgram({
  async invoke(load, args, flags) {
    try {
      const { createContext } = await import("./context.js");
      const handler = await load();
      const ctx = createContext({ flags });
      exitCode = await handler(ctx, ...(args as never[]));
    } catch (error) {
      exitCode = report(error);
    }
  },
});
program.exitOverride();

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // Help and version exit 0; usage errors were already printed by commander.
    exitCode = error.exitCode === 0 ? 0 : ExitCode.usage;
  } else {
    exitCode = report(error);
  }
}
process.exitCode = exitCode;
