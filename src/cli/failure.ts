/**
 * How a failure reaches the user: one redacted line on stderr (`codex-pool: <what is wrong; what
 * to do>`), or with `--json` exactly one JSON object `{"error":{"code","message","hint"}}`, and the
 * exit code of its class (src/platform/exit-codes.ts). Anything that is not a CodexPoolError is a
 * bug: class `internal`, with the stack only under --debug.
 */
import type { Writable } from "node:stream";
import { errorMessage, isCodexPoolError, type ErrorCode } from "../platform/errors.js";
import { EXIT_CLASSES } from "../platform/exit-codes.js";
import { redact } from "../platform/redact.js";

export interface Failure {
  readonly code: ErrorCode;
  readonly message: string;
  readonly hint: string;
  readonly exit: number;
}

export function failureOf(error: unknown): Failure {
  if (isCodexPoolError(error)) {
    const code = error.errorCode;
    return {
      code,
      message: error.message,
      hint: error.hint ?? EXIT_CLASSES[code].hint,
      exit: error.exitCode,
    };
  }
  return {
    code: "internal",
    message: `unexpected error: ${errorMessage(error)}`,
    hint: EXIT_CLASSES.internal.hint,
    exit: EXIT_CLASSES.internal.exit,
  };
}

/**
 * The one JSON line of a failure; `stack` only under --debug. Each text is redacted on its own
 * before encoding: redacting the encoded line would mask the `"code"` field itself.
 */
export function failureJson(failure: Failure, stack?: string): string {
  const error = {
    code: failure.code,
    message: redact(failure.message),
    hint: redact(failure.hint),
    ...(stack !== undefined ? { stack: redact(stack) } : {}),
  };
  return JSON.stringify({ error });
}

export function reportFailure(
  error: unknown,
  options: { json: boolean; debug: boolean; stderr: Pick<Writable, "write"> },
): number {
  const failure = failureOf(error);
  const stack = options.debug && error instanceof Error ? error.stack : undefined;
  if (options.json) {
    options.stderr.write(failureJson(failure, stack) + "\n");
    return failure.exit;
  }
  const more = failure.code === "internal" ? " (run with --debug for details)" : "";
  options.stderr.write(redact(`codex-pool: ${failure.message}${more}`) + "\n");
  if (stack !== undefined) options.stderr.write(redact(stack) + "\n");
  return failure.exit;
}
