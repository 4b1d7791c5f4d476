/**
 * The connection to the shared pool's database, with porsager's `postgres` client (loaded only
 * when a database is configured, so the file backend's start-up pays nothing for it). Its errors
 * carry the query text and every parameter (encrypted tokens, ids) as properties: each one that
 * leaves this module is rebuilt as a DatabaseError holding only the server's code and message,
 * with the URL's password masked (docs/decisions.md decision 9).
 *
 * Statements are single statements or short transactions, never prepared server-side
 * (`prepare: false`), so the same URL works behind a pooler in transaction mode
 * (docs/team-pool.md "Poolers").
 */
import type postgresType from "postgres";
import { CodexPoolError, errorMessage } from "../../platform/errors.js";
import { BOOKKEEPING_SQL, LATEST_MIGRATION, MIGRATIONS } from "./migrations.js";

export type Sql = postgresType.Sql;
export type TxSql = postgresType.TransactionSql;

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

/** Rebuilds any error from the client without its query, parameters or connection secrets. */
export function sanitizeDbError(error: unknown, url: string): unknown {
  if (error instanceof CodexPoolError) return error;
  const e = error as { code?: unknown; message?: unknown; name?: unknown } | null;
  const code = typeof e?.code === "string" ? e.code : null;
  let message = (typeof e?.message === "string" ? e.message : errorMessage(error)).split("\n")[0]!;
  // The server's messages may quote a parameter ("invalid input syntax for type …: \"…\""), and
  // the client's connection errors may name the URL, which may hold a password.
  const parameters = (error as { parameters?: unknown } | null)?.parameters;
  if (Array.isArray(parameters)) {
    for (const p of parameters) {
      const text = typeof p === "string" ? p : Buffer.isBuffer(p) ? p.toString("utf8") : null;
      if (text !== null && text.length >= 4) message = message.split(text).join("[parameter]");
    }
  }
  message = message.split(url).join(redactDatabaseUrl(url));
  const where = redactDatabaseUrl(url);
  if (code === "ECONNREFUSED" || code === "ENOTFOUND" || code === "CONNECT_TIMEOUT") {
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

export interface ConnectOptions {
  /** Most connections this process opens (transactions are short; a few suffice). */
  max?: number;
  applicationName?: string;
}

export async function connect(url: string, options: ConnectOptions = {}): Promise<Sql> {
  const { default: postgres } = await import("postgres");
  return postgres(url, {
    max: options.max ?? 4,
    prepare: false,
    idle_timeout: 30,
    connect_timeout: 10,
    onnotice: () => undefined,
    connection: { application_name: options.applicationName ?? "codex-pool" },
  });
}

/** The highest applied migration; 0 when the schema was never created. */
export async function appliedMigration(sql: Sql): Promise<number> {
  const [exists] = await sql<{ table: string | null }[]>`
    select to_regclass('codex_pool.migrations')::text as table`;
  if (!exists?.table) return 0;
  const [row] = await sql<{ v: number }[]>`
    select coalesce(max(version), 0)::int as v from codex_pool.migrations`;
  return row?.v ?? 0;
}

/** Fails with the fix unless the database is exactly at this codex-pool's schema. */
export async function assertMigrated(sql: Sql, where: string): Promise<void> {
  const applied = await appliedMigration(sql);
  if (applied === LATEST_MIGRATION) return;
  if (applied > LATEST_MIGRATION) {
    throw new SchemaVersionError(
      `the pool database at ${where} is at schema ${applied}, newer than this codex-pool knows (${LATEST_MIGRATION}); upgrade codex-pool`,
      applied,
    );
  }
  throw new SchemaVersionError(
    applied === 0
      ? `the pool database at ${where} has no codex-pool tables yet; run codex-pool db migrate`
      : `the pool database at ${where} is at schema ${applied} of ${LATEST_MIGRATION}; run codex-pool db migrate`,
    applied,
  );
}

/**
 * Applies every pending migration in one transaction (all or none), serialised across machines by
 * an advisory lock; returns the versions it applied.
 */
export async function migrate(sql: Sql): Promise<number[]> {
  const applied: number[] = [];
  await sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(${MIGRATE_LOCK_KEY})`;
    await tx.unsafe(BOOKKEEPING_SQL);
    const [row] = await tx<{ v: number }[]>`
      select coalesce(max(version), 0)::int as v from codex_pool.migrations`;
    const current = row?.v ?? 0;
    if (current > LATEST_MIGRATION) {
      throw new SchemaVersionError(
        `the pool database is at schema ${current}, newer than this codex-pool knows (${LATEST_MIGRATION}); upgrade codex-pool`,
        current,
      );
    }
    for (const m of MIGRATIONS) {
      if (m.version <= current) continue;
      await tx.unsafe(m.sql);
      await tx`insert into codex_pool.migrations (version, name) values (${m.version}, ${m.name})`;
      applied.push(m.version);
    }
  });
  return applied;
}

/** Advisory lock keys: arbitrary constants, unique to codex-pool within a database. */
export const POOL_LOCK_KEY = 0x63_70_6f_6f_6c; // "cpool"
export const MIGRATE_LOCK_KEY = 0x63_70_6d_69_67; // "cpmig"

/** The channel every commit notifies (ids only, never tokens: any role may NOTIFY it). */
export const CHANNEL = "codex_pool_changed";
