/**
 * What every part of the shared pool's database code shares: its errors, the redaction that keeps
 * secrets out of them, and its constants. The client's errors may carry the statement, its
 * parameters (encrypted tokens, ids) in their text, and the server's `detail` and `where` (which
 * may quote a row's values): each one that leaves src/pool/pg/ is rebuilt as a DatabaseError holding
 * only the server's code and the first line of its message, with the parameters cut out of it and
 * the URL's password masked (docs/decisions.md decision 9).
 */
import { CodexPoolError, errorMessage } from "../../platform/errors.js";

/** The database could not be reached or refused a statement. */
export class DatabaseError extends CodexPoolError {
  /** The server's SQLSTATE (e.g. 40001), or the client's error code (ECONNREFUSED). */
  readonly code: string | null;
  constructor(message: string, code: string | null) {
    super(message);
    this.code = code;
  }
}

/** The database's schema is not the one this codex-pool uses. */
export class SchemaVersionError extends CodexPoolError {
  readonly applied: number;
  constructor(message: string, applied: number) {
    super(message);
    this.applied = applied;
  }
}

/** `postgres://user:secret@host/db?password=x` → the same with the secrets masked. */
export function redactDatabaseUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== "") u.password = "***";
    for (const key of [...u.searchParams.keys()]) {
      if (/pass|secret|key|token/i.test(key)) u.searchParams.set(key, "***");
    }
    return u.toString();
  } catch {
    return "(an unparsable database URL)";
  }
}

/** The client's codes for a server it could not reach (or that stopped answering). */
const UNREACHABLE = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ETIMEDOUT",
  "CONNECT_TIMEOUT",
]);

/** A parameter as the server may quote it in a message. */
function parameterTexts(p: unknown): string[] {
  if (typeof p === "string") return [p];
  if (Buffer.isBuffer(p)) return [p.toString("utf8"), `\\x${p.toString("hex")}`];
  return [];
}

/**
 * Rebuilds any error from the client without its statement, its parameters (those of the statement
 * that failed, when known) or connection secrets. Our own errors pass through unchanged.
 */
export function sanitizeDbError(
  error: unknown,
  url: string,
  parameters: readonly unknown[] = [],
): unknown {
  if (error instanceof CodexPoolError) return error;
  const e = error as { code?: unknown; message?: unknown } | null;
  let code = typeof e?.code === "string" ? e.code : null;
  let message = (typeof e?.message === "string" ? e.message : errorMessage(error)).split("\n")[0]!;
  // The server's messages may quote a parameter ("invalid input syntax for type …: \"…\""), and
  // the client's connection errors may name the URL, which may hold a password.
  for (const text of parameters.flatMap(parameterTexts)) {
    if (text.length >= 4) message = message.split(text).join("[parameter]");
  }
  message = message.split(url).join(redactDatabaseUrl(url));
  const where = redactDatabaseUrl(url);
  // The client's own words for a server that does not answer the connection in time.
  if (code === null && /connection timeout|timeout expired/i.test(message))
    code = "CONNECT_TIMEOUT";
  if (code !== null && UNREACHABLE.has(code)) {
    return new DatabaseError(
      `cannot reach the pool database at ${where} (${code}); check database_url and that the server is up`,
      code,
    );
  }
  if (code === "28P01" || code === "28000") {
    return new DatabaseError(
      `the pool database at ${where} refused the sign-in (${message}); check the user and password in database_url`,
      code,
    );
  }
  if (code === "3D000") {
    return new DatabaseError(
      `the pool database at ${where} does not exist (${message}); create it, then run codex-pool db migrate`,
      code,
    );
  }
  return new DatabaseError(`pool database error${code ? ` ${code}` : ""}: ${message}`, code);
}

/** Runs `fn`, rethrowing the client's errors sanitized. */
export async function guarded<T>(url: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw sanitizeDbError(error, url);
  }
}

/** Advisory lock keys: arbitrary constants, unique to codex-pool within a database. */
export const POOL_LOCK_KEY = 0x63_70_6f_6f_6c; // "cpool"
export const MIGRATE_LOCK_KEY = 0x63_70_6d_69_67; // "cpmig"

/** The channel every commit notifies (ids only, never tokens: any role may NOTIFY it). */
export const CHANNEL = "codex_pool_changed";
