/**
 * The PostgreSQL backend of the pool store (docs/decisions.md decision 12, docs/team-pool.md).
 * `transact` keeps the file store's whole-pool semantics in one short database transaction,
 * serialised per pool by a transaction-scoped advisory lock (which also works behind a pooler in
 * transaction mode): read the rows, run the change on the pool they make, validate, write only the
 * rows that changed (tokens encrypted under a new token generation), append audit rows derived
 * from what changed, bump the pool's version and notify — all committed together or not at all.
 * It is never held across a network call other than the database's own.
 *
 * Session leases are renewed and expire by the database clock; their ages and expiries reach
 * callers as times on this machine's clock (rows.ts). Reads are one repeatable-read snapshot of
 * the rows (pg-read.ts).
 */
import os from "node:os";
import { systemClock, type Clock } from "../../platform/clock.js";
import { LockTimeoutError } from "../../platform/errors.js";
import { withLock } from "../../platform/lock.js";
import { ensurePrivateDir } from "../../platform/atomic-file.js";
import type { Env, PoolPaths } from "../../platform/paths.js";
import { PoolSchema, type Pool } from "../schema.js";
import type { PoolStore, StoreSubscription, TransactContext, TransactOptions } from "../store.js";
import { DatabaseKeyError, TokenCipher, keyCheckMatches, makeKeyCheck } from "./crypto.js";
import { connect, jsonb, sql, type Db, type Tx } from "./client.js";
import { CHANNEL, POOL_LOCK_KEY, guarded, redactDatabaseUrl, sanitizeDbError } from "./db.js";
import { replayJournal } from "./journal.js";
import { subscribeToChanges } from "./pg-subscribe.js";
import { writeChanges } from "./pg-write.js";
import { assertMigrated } from "./migrate.js";
import { loadPool, type Loaded } from "./pg-read.js";
import type { AuditEvent } from "./rows.js";

export interface PgPoolStoreOptions {
  url: string;
  /** A direct (non-pooled) URL for LISTEN; the main URL when absent. */
  listenUrl?: string;
  /** The team's data key; called once, on first use (a missing key fails then, not at start). */
  key: () => Buffer;
  /** This machine's pool home: the journal and the local lock live there. */
  paths: PoolPaths;
  /** Where PGPASSWORD is read when a URL holds no password. */
  env?: Env;
  lockWaitMs: number;
  lockStaleMs: number;
  clock?: Clock;
  /** Who we are in the audit (default: this host, pid and OS user). */
  identity?: { host: string; pid: number; osUser: string };
}

function osUser(): string {
  try {
    return os.userInfo().username;
  } catch {
    return "unknown";
  }
}

export interface Ready {
  db: Db;
  cipher: TokenCipher;
}

export class PgPoolStore implements PoolStore {
  readonly kind = "postgres" as const;
  readonly location: string;
  readonly paths: PoolPaths;
  readonly clock: Clock;
  readonly identity: { host: string; pid: number; osUser: string };
  private readonly opts: PgPoolStoreOptions;
  private opening: Promise<Ready> | null = null;
  private dbHandle: Db | null = null;

  constructor(options: PgPoolStoreOptions) {
    this.opts = options;
    this.paths = options.paths;
    this.clock = options.clock ?? systemClock;
    this.location = redactDatabaseUrl(options.url);
    this.identity = options.identity ?? { host: os.hostname(), pid: process.pid, osUser: osUser() };
  }

  get url(): string {
    return this.opts.url;
  }

  /** Where LISTEN connects: the direct URL when the main one goes through a pooler. */
  get listenUrl(): string | undefined {
    return this.opts.listenUrl;
  }

  /** Connects, checks the schema and the key, and replays this machine's journal (once). */
  ready(): Promise<Ready> {
    this.opening ??= this.open().catch((error: unknown) => {
      this.opening = null;
      throw error;
    });
    return this.opening;
  }

  private async open(): Promise<Ready> {
    const db = (this.dbHandle ??= await connect(this.opts.url, this.connectOptions()));
    const cipher = new TokenCipher(this.opts.key());
    await guarded(this.opts.url, async () => {
      await assertMigrated(db, this.location);
      await this.checkKey(db, cipher);
    });
    const ready = { db, cipher };
    await replayJournal(this, ready);
    return ready;
  }

  /** How this store connects (also `db migrate`'s own connection). */
  connectOptions(): { env?: Env } {
    return this.opts.env ? { env: this.opts.env } : {};
  }

  private async checkKey(db: Db, cipher: TokenCipher): Promise<void> {
    const [row] = await db.rows<{ key_check: Uint8Array | null }>(
      sql`select key_check from codex_pool.pool`,
    );
    if (row?.key_check) {
      if (!keyCheckMatches(cipher, row.key_check)) throw wrongKey(this.location);
      return;
    }
    // The first member to use the pool sets the check value; a race between two keeps the first.
    const [set] = await db.rows<{ key_check: Uint8Array }>(sql`
      update codex_pool.pool set key_check = coalesce(key_check, ${makeKeyCheck(cipher)})
      returning key_check`);
    if (set && !keyCheckMatches(cipher, set.key_check)) throw wrongKey(this.location);
  }

  async read(): Promise<Pool> {
    const { db, cipher } = await this.ready();
    return guarded(this.opts.url, () =>
      db.transaction(
        (tx) => this.load(tx, cipher),
        "begin isolation level repeatable read read only",
      ),
    ).then((loaded) => loaded.pool);
  }

  /** Everything, as one pool (inside the caller's transaction). */
  load(tx: Tx, cipher: TokenCipher): Promise<Loaded> {
    return loadPool(tx, cipher, this.clock.now());
  }

  async transact<T>(
    change: (pool: Pool, tx: TransactContext) => T | Promise<T>,
    options: TransactOptions<T> = {},
  ): Promise<T> {
    if (options.afterCommit === undefined) return this.commit(change, options.signal);
    // The follow-up is a local write (e.g. $CODEX_HOME/auth.json): this machine's other writers
    // must not slip in between the commit and it, so both run under the local pool lock.
    await ensurePrivateDir(this.paths.poolHome, { tighten: true });
    return withLock(
      this.paths.poolLock,
      {
        waitMs: this.opts.lockWaitMs,
        staleMs: this.opts.lockStaleMs,
        purpose: "pool transaction",
        what: "the pool",
        clock: this.clock,
        ...(options.signal ? { signal: options.signal } : {}),
      },
      async () => {
        const result = await this.commit(change, options.signal);
        if (options.afterCommit) await options.afterCommit(result);
        return result;
      },
    );
  }

  /**
   * The pool lock, inside a transaction: every writer of the pool's rows takes it first. A holder
   * that stops between its statements (SIGSTOP, a laptop put to sleep, a frozen VM) would keep it
   * for as long as its connection lives, which may be hours; the server therefore ends a session
   * idle inside this transaction for longer than half the lock wait (its transaction rolls back:
   * nothing of it was committed, and a refresh's rotated tokens are in the journal), so the others
   * wait at most that long. Both limits are `set local`: they end with the transaction, as a
   * pooler in transaction mode needs (docs/team-pool.md "Poolers").
   */
  async lockPool(tx: Tx): Promise<void> {
    const wait = Math.max(1, Math.round(this.opts.lockWaitMs));
    // Whole milliseconds computed here, never text from outside (SET takes no parameters).
    await tx.script(`set local lock_timeout = '${wait}ms'`);
    await tx.script(`set local idle_in_transaction_session_timeout = '${holdLimitMs(wait)}ms'`);
    await tx.rows(sql`select pg_advisory_xact_lock(${POOL_LOCK_KEY}::int8)`);
  }

  /** Runs `fn` in one transaction holding the pool lock; a lock wait past lockWaitMs fails clearly. */
  async withPoolLock<T>(fn: (tx: Tx, ready: Ready) => Promise<T>, opened?: Ready): Promise<T> {
    const ready = opened ?? (await this.ready());
    try {
      return await ready.db.transaction(async (tx) => {
        await this.lockPool(tx);
        return fn(tx, ready);
      });
    } catch (error) {
      const clean = sanitizeDbError(error, this.opts.url);
      if ((clean as { code?: unknown }).code === "55P03") {
        throw new LockTimeoutError(
          `the pool database is busy: another writer held the pool for ${Math.round(this.opts.lockWaitMs / 1000)}s; try again`,
        );
      }
      throw clean;
    }
  }

  private async commit<T>(
    change: (pool: Pool, tx: TransactContext) => T | Promise<T>,
    signal: AbortSignal | undefined,
  ): Promise<T> {
    return this.withPoolLock(async (tx, { cipher }) => {
      const events: AuditEvent[] = [];
      const expired = await tx.rows<{ account: string }>(sql`
        delete from codex_pool.sessions where expires_at <= clock_timestamp() returning account`);
      for (const e of expired) {
        events.push({ account: e.account, action: "release", detail: { expired: true } });
      }
      const loaded = await this.load(tx, cipher);
      const before = structuredClone(loaded.pool);
      const context: TransactContext = { signal: signal ?? new AbortController().signal };
      const result = await change(loaded.pool, context);
      const after = PoolSchema.parse(loaded.pool); // a bug in `change` must not reach the rows
      signal?.throwIfAborted();
      const changed = await writeChanges(tx, cipher, before, after, loaded.generations, events);
      if (changed || events.length > 0) await this.finish(tx, events);
      return result;
    });
  }

  /** Audit rows, the version bump and the notification, in the caller's transaction. */
  async finish(tx: Tx, events: AuditEvent[]): Promise<number> {
    const { host, pid, osUser: user } = this.identity;
    for (const e of events) {
      await tx.count(sql`
        insert into codex_pool.audit (host, pid, os_user, account, action, detail)
        values (${host}, ${pid}, ${user}, ${e.account}, ${e.action},
                ${e.detail ? jsonb(e.detail) : null}::jsonb)`);
    }
    const [row] = await tx.rows<{ version: string }>(sql`
      update codex_pool.pool set version = version + 1 returning version::text as version`);
    const version = row?.version ?? "0";
    await tx.rows(sql`select pg_notify(${CHANNEL}, ${version})`);
    return Number(version);
  }

  subscribe(onChange: () => void, options: { pollMs?: number } = {}): Promise<StoreSubscription> {
    return subscribeToChanges(this, onChange, options);
  }

  async close(): Promise<void> {
    const db = this.dbHandle;
    this.dbHandle = null;
    this.opening = null;
    await db?.end(2000);
  }
}

/**
 * How long the server lets a pool transaction sit idle between its statements: half the lock wait
 * (so a stopped holder is cut off before its waiters give up), never under a second (a loaded
 * machine's own pauses between statements must not cut it).
 */
export function holdLimitMs(lockWaitMs: number): number {
  return Math.max(1000, Math.floor(lockWaitMs / 2));
}

function wrongKey(location: string): DatabaseKeyError {
  return new DatabaseKeyError(
    `the database key does not match the key the pool at ${location} was encrypted with (CODEX_POOL_DATABASE_KEY or database_key_file); use the team's key`,
  );
}
