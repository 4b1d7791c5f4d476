/**
 * The typed error hierarchy (docs/style.md rule 15). Every error a user can cause is a
 * CodexPoolError of one class of exit-codes.ts: a one-line message that says what is wrong and what
 * to do, a stable code and its exit code. Only src/cli turns them into output and exit codes.
 */
import { EXIT_CLASSES, type ErrorCode } from "./exit-codes.js";

export type { ErrorCode } from "./exit-codes.js";

/** The exit codes code refers to by name (the rest come from the table in exit-codes.ts). */
export const ExitCode = {
  ok: 0,
  failed: EXIT_CLASSES.failed.exit,
  usage: EXIT_CLASSES.usage.exit,
  /** Pool exhausted with --no-wait: distinct so scripts can tell "try later" from "broken". */
  poolExhausted: EXIT_CLASSES.pool_exhausted.exit,
  interrupted: EXIT_CLASSES.interrupted.exit,
  terminated: EXIT_CLASSES.terminated.exit,
} as const;

/**
 * Marks our errors so they are recognised across copies of this module: the start-up bundle of
 * `run -- --version` carries its own copy, where `instanceof` would fail.
 */
const BRAND = Symbol.for("codex-pool.error");

export function isCodexPoolError(value: unknown): value is CodexPoolError {
  return value instanceof Error && (value as unknown as Record<symbol, unknown>)[BRAND] === true;
}

export interface CodexPoolErrorOptions {
  /** The class of failure (default `failed`). */
  code?: ErrorCode;
  /** What to do, when more precise than the class's hint. */
  hint?: string;
  cause?: unknown;
}

export class CodexPoolError extends Error {
  readonly [BRAND] = true;
  /** The failure's class: the `code` of a JSON error. Not `code`, which Node keeps for errno. */
  readonly errorCode: ErrorCode;
  readonly hint: string | null;
  constructor(message: string, options: CodexPoolErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.errorCode = options.code ?? "failed";
    this.hint = options.hint ?? null;
  }

  get exitCode(): number {
    return EXIT_CLASSES[this.errorCode].exit;
  }
}

type ClassedOptions = Omit<CodexPoolErrorOptions, "code">;

/** A CodexPoolError base fixed to one class of the table: `class X extends classed("config") {}`. */
export function classed(
  code: ErrorCode,
): new (message: string, options?: ClassedOptions) => CodexPoolError {
  return class extends CodexPoolError {
    constructor(message: string, options: ClassedOptions = {}) {
      super(message, { ...options, code });
    }
  };
}

/** Bad command-line usage (unknown flag, missing argument, ambiguous account): exit 2. */
export class UsageError extends classed("usage") {}

/** An invalid setting value from config.toml, the environment or a flag; an unusable CODEX_HOME. */
export class ConfigError extends classed("config") {}

/** The pool file (or its backup) cannot be read or does not validate. Never overwritten. */
export class PoolCorruptError extends classed("pool_corrupt") {}

/** A lock (pool or refresh lease) could not be had within its bounded wait. */
export class LockTimeoutError extends classed("busy") {}

/** A held lock was taken away (recovered as stale by someone else); the holder must not write. */
export class LockLostError extends classed("busy") {}

/** No account matched a selector like `2`, an email or an id. */
export class AccountNotFoundError extends classed("account_not_found") {}

/** Sign-in failed or was refused; the account (if any) is kept. */
export class AuthError extends classed("auth_failed") {}

/** The refresh token is dead for good (or there is no account); `codex-pool login` again. */
export class NeedsLoginError extends CodexPoolError {
  readonly reason: string;
  constructor(message: string, reason: string, options: ClassedOptions = {}) {
    super(message, { ...options, code: "needs_login" });
    this.reason = reason;
  }
}

/** A transient failure talking to a server (network, 5xx, timeout): retry later. */
export class TransientError extends classed("network") {}

/** The server answered something we cannot parse. */
export class MalformedResponseError extends classed("bad_response") {}

/** The codex binary cannot be found or started. */
export class CodexMissingError extends classed("codex_unavailable") {}

/** The user cancelled (Ctrl+C): exit 130. */
export class CancelledError extends CodexPoolError {
  constructor(message = "cancelled") {
    super(message, { code: "interrupted" });
  }
}

/** Every account is out of quota; carries the earliest reset. */
export class PoolExhaustedError extends CodexPoolError {
  readonly earliestResetAt: Date | null;
  constructor(message: string, earliestResetAt: Date | null) {
    super(message, { code: "pool_exhausted" });
    this.earliestResetAt = earliestResetAt;
  }
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

export function isErrnoException(error: unknown): error is NodeJS.ErrnoException {
  return error instanceof Error && typeof (error as NodeJS.ErrnoException).code === "string";
}

export function hasErrorCode(error: unknown, ...codes: string[]): boolean {
  return isErrnoException(error) && codes.includes(error.code ?? "");
}
