/**
 * The typed error hierarchy. Every error a user can cause is a CodexPoolError with an exit code and
 * a one-line message that says what is wrong and what to do; only src/cli turns them into output.
 */
export const ExitCode = {
  ok: 0,
  failed: 1,
  usage: 2,
  /** Pool exhausted with --no-wait: distinct so scripts can tell "try later" from "broken". */
  poolExhausted: 75,
  interrupted: 130,
  terminated: 143,
} as const;

/**
 * Marks our errors so they are recognised across copies of this module: the start-up bundle of
 * `run -- --version` carries its own copy, where `instanceof` would fail.
 */
const BRAND = Symbol.for("codex-pool.error");

export function isCodexPoolError(value: unknown): value is CodexPoolError {
  return value instanceof Error && (value as unknown as Record<symbol, unknown>)[BRAND] === true;
}

export class CodexPoolError extends Error {
  readonly [BRAND] = true;
  readonly exitCode: number;
  constructor(message: string, options?: { exitCode?: number; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.exitCode = options?.exitCode ?? ExitCode.failed;
  }
}

/** Bad command-line usage (unknown flag, missing argument): exit 2. */
export class UsageError extends CodexPoolError {
  constructor(message: string) {
    super(message, { exitCode: ExitCode.usage });
  }
}

/** An invalid setting value from config.toml, the environment or a flag. */
export class ConfigError extends CodexPoolError {}

/** The pool file (or its backup) cannot be read or does not validate. Never overwritten. */
export class PoolCorruptError extends CodexPoolError {}

/** A lock (pool or refresh lease) could not be had within its bounded wait. */
export class LockTimeoutError extends CodexPoolError {}

/** A held lock was taken away (recovered as stale by someone else); the holder must not write. */
export class LockLostError extends CodexPoolError {}

/** No account matched a selector like `2`, an email or an id. */
export class AccountNotFoundError extends CodexPoolError {}

/** Sign-in failed or was refused; the account (if any) is kept. */
export class AuthError extends CodexPoolError {}

/** The refresh token is dead for good; the account needs `codex-pool login` again. */
export class NeedsLoginError extends CodexPoolError {
  readonly reason: string;
  constructor(message: string, reason: string, options?: { cause?: unknown }) {
    super(message, options);
    this.reason = reason;
  }
}

/** A transient failure talking to a server (network, 5xx, timeout): retry later. */
export class TransientError extends CodexPoolError {}

/** The server answered something we cannot parse. */
export class MalformedResponseError extends CodexPoolError {}

/** The codex binary cannot be found or started. */
export class CodexMissingError extends CodexPoolError {}

/** The user cancelled (Ctrl+C): exit 130. */
export class CancelledError extends CodexPoolError {
  constructor(message = "cancelled") {
    super(message, { exitCode: ExitCode.interrupted });
  }
}

/** Every account is out of quota; carries the earliest reset. */
export class PoolExhaustedError extends CodexPoolError {
  readonly earliestResetAt: Date | null;
  constructor(message: string, earliestResetAt: Date | null) {
    super(message, { exitCode: ExitCode.poolExhausted });
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
