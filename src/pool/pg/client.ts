/**
 * The connection to the shared pool's database, on node-postgres (`pg`, loaded only when a
 * database is configured, so the file backend's start-up pays nothing for it). Why this client and
 * this shape: docs/team-pool.md "The client".
 *
 * - Every statement is built by the `sql` tag: its values travel as parameters of an unnamed
 *   statement, never spliced into the text, and never as a named (server-side prepared) statement,
 *   so the same URL works behind a pooler in transaction mode (docs/team-pool.md "Poolers"). Text
 *   without parameters (migrations, `set local`) goes through `script`.
 * - A transaction checks one connection out of the pool, runs BEGIN … COMMIT (or ROLLBACK) on it
 *   and nothing else, sends one statement at a time, and gives it back in `finally` — destroyed
 *   when anything went wrong with it. A connection that dies mid-transaction rejects that
 *   transaction and nothing else.
 * - Every connection has an `error` listener from the moment it exists, and the pool has one for
 *   idle connections: an unhandled `error` event would end the process (and a supervised codex
 *   with it).
 * - Errors leave as DatabaseError (db.ts), with the statement's parameters scrubbed out.
 */
import type pg from "pg";
import type { Env } from "../../platform/paths.js";
import { clientConfig, loadPg } from "./connection-settings.js";
import { DatabaseError, redactDatabaseUrl, sanitizeDbError } from "./db.js";

/** One statement and its parameters. Build it with `sql`; never put a value into `text`. */
export interface Statement {
  readonly text: string;
  readonly values: readonly unknown[];
}

/** `sql\`select … where id = ${id}\`` → `select … where id = $1` with `[id]`. */
export function sql(strings: TemplateStringsArray, ...values: unknown[]): Statement {
  let text = strings[0] ?? "";
  for (let i = 0; i < values.length; i += 1) text += `$${i + 1}${strings[i + 1] ?? ""}`;
  return { text, values };
}

/** A jsonb parameter (the statement casts it: `${jsonb(doc)}::jsonb`). */
export function jsonb(value: Record<string, unknown>): string {
  return JSON.stringify(value);
}

/** What statements run on: the pool (a connection per statement) or one transaction. */
export interface Queryable {
  /** The rows of one statement. */
  rows<R>(statement: Statement): Promise<R[]>;
  /** How many rows one statement inserted, updated or deleted. */
  count(statement: Statement): Promise<number>;
  /** Fixed SQL without parameters (the simple protocol: may hold several statements). */
  script(text: string): Promise<void>;
}

/** One transaction: its statements run in order on its own connection. */
export type Tx = Queryable;

export interface Db extends Queryable {
  /**
   * Runs `fn` in one transaction (`begin` is the statement that opens it, e.g. with an isolation
   * level) and commits what it did, or rolls back and rethrows.
   */
  transaction<T>(fn: (tx: Tx) => Promise<T>, begin?: string): Promise<T>;
  /** Closes every connection; one still busy after `timeoutMs` is cut. */
  end(timeoutMs?: number): Promise<void>;
}

export interface ConnectOptions {
  /** Most connections this process opens (transactions are short; a few suffice). */
  max?: number;
  applicationName?: string;
  /** Where PGPASSWORD is read when the URL holds no password (~/.pgpass never is). */
  env?: Env;
}

/** An unused connection is closed after this. */
const IDLE_MS = 30_000;

export async function connect(url: string, options: ConnectOptions = {}): Promise<Db> {
  const { pg } = await loadPg();
  let config: pg.ClientConfig;
  try {
    config = await clientConfig(url, options.applicationName ?? "codex-pool", options.env);
  } catch (error) {
    throw sanitizeDbError(error, url); // a URL the client cannot read, a missing sslrootcert
  }
  // Each connection gets the settings above whole (the pool would hand its clients a copy without
  // the password). Their connect timeout bounds reaching the server, not waiting for a free
  // connection of ours: a transaction queued behind others that wait for the pool lock must wait
  // as long as they do, so the pool's own timeout stays off.
  class PoolClient extends pg.Client {
    constructor() {
      super(config);
    }
  }
  const pool = new pg.Pool({
    max: options.max ?? 4,
    idleTimeoutMillis: IDLE_MS,
    connectionTimeoutMillis: 0,
    Client: PoolClient,
  });
  return new PooledDb(pool, url);
}

/** Why a connection was lost, per connection (set by its `error` listener). */
const lostBy = new WeakMap<pg.ClientBase, unknown>();

class PooledDb implements Db {
  private readonly busy = new Set<pg.PoolClient>();
  private readonly pool: pg.Pool;
  private readonly url: string;

  constructor(pool: pg.Pool, url: string) {
    this.pool = pool;
    this.url = url;
    // An idle connection that died: the pool has already dropped it; nothing was in flight.
    pool.on("error", () => undefined);
    // From its first moment, each connection records why it died instead of throwing: a statement
    // on it then fails, and the transaction that owns it reports the recorded reason.
    pool.on("connect", (client) => {
      client.on("error", (error) => {
        if (!lostBy.has(client)) lostBy.set(client, error);
      });
    });
  }

  rows<R>(statement: Statement): Promise<R[]> {
    return this.once((tx) => tx.rows<R>(statement));
  }

  count(statement: Statement): Promise<number> {
    return this.once((tx) => tx.count(statement));
  }

  script(text: string): Promise<void> {
    return this.once((tx) => tx.script(text));
  }

  /** One statement on a connection of its own, outside any transaction. */
  private async once<T>(fn: (tx: ClientTx) => Promise<T>): Promise<T> {
    const client = await this.checkout();
    const tx = new ClientTx(client, this.url);
    try {
      return await fn(tx);
    } catch (error) {
      throw lostBy.has(client) && error instanceof DatabaseError
        ? this.lost(client, "statement")
        : error;
    } finally {
      tx.close();
      this.checkin(client);
    }
  }

  async transaction<T>(fn: (tx: Tx) => Promise<T>, begin = "begin"): Promise<T> {
    const client = await this.checkout();
    const tx = new ClientTx(client, this.url);
    let phase: "open" | "commit" = "open";
    let broken = false;
    try {
      await tx.script(begin);
      const result = await fn(tx);
      phase = "commit";
      await tx.script("commit");
      return result;
    } catch (error) {
      // The statement that failed, or the COMMIT, ran into the lost connection (a throw of `fn`'s
      // own is its own story: nothing was stored either way).
      if (lostBy.has(client) && (phase === "commit" || error instanceof DatabaseError)) {
        throw this.lost(client, phase);
      }
      // A COMMIT that failed on a live connection was rolled back by the server; after a failed
      // statement or a throw from `fn`, the rollback is ours. A connection that cannot even roll
      // back is not given to anyone else.
      if (phase === "open") await tx.script("rollback").catch(() => (broken = true));
      else broken = true;
      if (lostBy.has(client) && error instanceof DatabaseError) throw this.lost(client, phase);
      throw error;
    } finally {
      tx.close();
      this.checkin(client, broken);
    }
  }

  private async checkout(): Promise<pg.PoolClient> {
    try {
      const client = await this.pool.connect();
      this.busy.add(client);
      return client;
    } catch (error) {
      throw sanitizeDbError(error, this.url);
    }
  }

  private checkin(client: pg.PoolClient, broken = false): void {
    this.busy.delete(client);
    client.release(broken || lostBy.has(client));
  }

  /** The connection died under a transaction: which part of it may have landed, and why. */
  private lost(client: pg.ClientBase, phase: "statement" | "open" | "commit"): DatabaseError {
    const cause = sanitizeDbError(lostBy.get(client), this.url);
    const why = cause instanceof DatabaseError ? cause.message : "the connection ended";
    const code = cause instanceof DatabaseError && cause.code !== null ? cause.code : "08006";
    const where = redactDatabaseUrl(this.url);
    const said = {
      statement: `was lost during a statement (${why}): it may or may not have taken effect`,
      open: `was lost during a transaction (${why}): nothing of it was stored; try again`,
      commit: `was lost while committing (${why}): the change may or may not have been stored; the next read shows which`,
    }[phase];
    return new DatabaseError(`the connection to the pool database at ${where} ${said}`, code);
  }

  async end(timeoutMs = 2000): Promise<void> {
    const ended = this.pool.end();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<"late">((resolve) => {
      timer = setTimeout(() => resolve("late"), timeoutMs);
    });
    try {
      if ((await Promise.race([ended, late])) === "late") {
        // Still busy: cut them; their transactions fail (and roll back on the server).
        for (const client of this.busy) void client.end().catch(() => undefined);
        await ended;
      }
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * One connection's statements, strictly one after another (the client would otherwise queue them
 * on the same connection), and only while the transaction that owns it is open.
 */
class ClientTx implements Queryable {
  private tail: Promise<unknown> = Promise.resolve();
  private open = true;
  private readonly client: pg.PoolClient;
  private readonly url: string;

  constructor(client: pg.PoolClient, url: string) {
    this.client = client;
    this.url = url;
  }

  close(): void {
    this.open = false;
  }

  private run(text: string, values?: readonly unknown[]): Promise<pg.QueryResult> {
    const next = this.tail.then(async () => {
      if (!this.open) throw new Error("a statement was sent after its transaction ended");
      try {
        return await this.client.query(text, values === undefined ? undefined : [...values]);
      } catch (error) {
        // The server ends the session after a FATAL error (terminated, shut down, idle too long
        // in a transaction): the connection is lost even before its socket closes.
        if ((error as { severity?: unknown }).severity === "FATAL" && !lostBy.has(this.client)) {
          lostBy.set(this.client, error);
        }
        throw sanitizeDbError(error, this.url, values);
      }
    });
    this.tail = next.catch(() => undefined);
    return next;
  }

  async rows<R>(statement: Statement): Promise<R[]> {
    return (await this.run(statement.text, statement.values)).rows as R[];
  }

  async count(statement: Statement): Promise<number> {
    return (await this.run(statement.text, statement.values)).rowCount ?? 0;
  }

  async script(text: string): Promise<void> {
    await this.run(text);
  }
}
