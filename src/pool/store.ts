/**
 * The pool store: one interface, two backends (docs/decisions.md decisions 1 and 12). The JSON
 * file under the pool home (file-store.ts) is the embedded default; a team shares one pool through
 * PostgreSQL (pg/pg-store.ts). Both give the same whole-pool semantics: `read()` is a validated
 * snapshot, `transact()` runs a change on a fresh copy with every other writer excluded and
 * commits it atomically, or nothing. Neither ever holds its exclusion across network calls or
 * child processes: do slow work outside and commit its result in a short transaction.
 * One contract suite (test/pool/store-contract.test.ts) runs against both.
 *
 * Which backend runs is decided in one place, open-store.ts, from the settings.
 */
import type { Pool } from "./schema.js";

export interface TransactOptions<T = unknown> {
  signal?: AbortSignal;
  /**
   * Runs after a successful commit, still inside the store's exclusion, with the change's result:
   * for a quick local write that must follow the commit and must not interleave with another
   * transaction (`switch` writes $CODEX_HOME/auth.json only once the tokens it adopted are safely
   * stored). Its error propagates; the commit stands.
   */
  afterCommit?: (result: T) => Promise<void>;
}

/** What a change function gets besides the pool: a signal aborted if the exclusion is lost. */
export interface TransactContext {
  readonly signal: AbortSignal;
}

export type StoreKind = "file" | "postgres";

/** A live subscription to other writers' commits; `close()` ends it. */
export interface StoreSubscription {
  close(): Promise<void>;
}

export interface PoolStore {
  readonly kind: StoreKind;
  /** Where the pool lives, for messages: the file's path, or the database URL without secrets. */
  readonly location: string;
  /** A validated snapshot of the pool (an empty pool when nothing was ever stored). */
  read(): Promise<Pool>;
  /**
   * Runs `change` on a fresh copy of the pool with every other writer excluded and commits the
   * result if it changed. A throw from `change` commits nothing. `change` must not call the store
   * itself (the database backend would need a second connection while holding the pool's lock).
   */
  transact<T>(
    change: (pool: Pool, tx: TransactContext) => T | Promise<T>,
    options?: TransactOptions<T>,
  ): Promise<T>;
  /**
   * Calls `onChange` soon after any writer (this process or another machine) commits a change:
   * at once where the backend can push (PostgreSQL LISTEN), else within `pollMs`. A cue to re-read,
   * never a payload; after a reconnect it fires once, since changes may have been missed.
   */
  subscribe(onChange: () => void, options?: { pollMs?: number }): Promise<StoreSubscription>;
  /** Releases connections; the store may not be used afterwards. A no-op for the file. */
  close(): Promise<void>;
}
