/**
 * Our own entry among the pool's live supervised sessions (`pool.sessions`), so that other
 * sessions and `status` see which account we run on and what we are doing. The entry is kept
 * fresh with a heartbeat on the clock's timers and removed on the way out; what makes an entry
 * live is the pool's rule (src/pool/live-sessions.ts). Every change is one short pool
 * transaction: the pool lock is the only lock.
 *
 * A heartbeat that fails is not swallowed: other sessions take our account once our entry is
 * older than HEARTBEAT_MAX_AGE_MS, so each failure is reported (the supervisor says so after codex
 * exits, and in `--json`).
 */
import os from "node:os";
import type { Clock, Timer } from "../platform/clock.js";
import {
  HEARTBEAT_MS,
  defaultAliveCheck,
  isSelf,
  liveSessionAccounts,
  pruneSessions,
  type AliveCheck,
  type SessionIdentity,
} from "../pool/live-sessions.js";
import type { LiveSession, Pool } from "../pool/schema.js";
import type { PoolStore } from "../pool/store.js";

export {
  HEARTBEAT_MAX_AGE_MS,
  HEARTBEAT_MS,
  defaultAliveCheck,
  pruneSessions,
  type AliveCheck,
  type SessionIdentity,
} from "../pool/live-sessions.js";

export type LivePhase = LiveSession["phase"];

export function thisProcess(): SessionIdentity {
  return { pid: process.pid, host: os.hostname() };
}

/** Accounts other live sessions run on, are moving to, or are draining (ours excluded). */
export function busyAccounts(
  pool: Pool,
  me: SessionIdentity,
  now: number,
  isAlive: AliveCheck,
): Set<string> {
  return liveSessionAccounts(pool, now, isAlive, me);
}

export interface LiveEntry {
  readonly account: string;
  readonly sessionId: string | null;
  readonly phase: LivePhase;
  /** How the session moves (whether its codex holds a refresh token); absent: not known yet. */
  readonly mode?: LiveSession["mode"];
}

/** Sets (or adds) our entry in a pool being changed inside a transaction. */
export function putSession(pool: Pool, me: SessionIdentity, entry: LiveEntry, now: number): void {
  const at = new Date(now).toISOString();
  const existing = pool.sessions.find((s) => isSelf(s, me));
  if (existing) {
    existing.account = entry.account;
    existing.sessionId = entry.sessionId;
    existing.phase = entry.phase;
    if (entry.mode !== undefined) existing.mode = entry.mode;
    existing.heartbeatAt = at;
    return;
  }
  pool.sessions.push({ pid: me.pid, host: me.host, ...entry, startedAt: at, heartbeatAt: at });
}

export interface LiveSessionOptions {
  readonly store: PoolStore;
  readonly clock: Clock;
  readonly me?: SessionIdentity;
  readonly isAlive?: AliveCheck;
  readonly heartbeatMs?: number;
  /** Told of each failed heartbeat write (the session goes on; the next beat tries again). */
  readonly onError?: (error: unknown) => void;
}

/** Our entry in the pool, kept fresh by a heartbeat until `close()`. */
export class LiveSessionRecord {
  readonly me: SessionIdentity;
  private readonly opts: LiveSessionOptions;
  private readonly isAlive: AliveCheck;
  private entry: LiveEntry | null = null;
  private timer: Timer | null = null;
  /** Recorded with every entry that does not say its own (e.g. a selection's claim). */
  mode: LiveSession["mode"] | undefined = undefined;
  private writing: Promise<void> = Promise.resolve();

  constructor(options: LiveSessionOptions) {
    this.opts = options;
    this.me = options.me ?? thisProcess();
    this.isAlive = options.isAlive ?? defaultAliveCheck;
  }

  get current(): LiveEntry | null {
    return this.entry;
  }

  /**
   * Records `entry` now (one transaction) and starts the heartbeat if it is not running. An entry
   * a transaction of ours already recorded (`apply`, e.g. the selection's claim) is not written
   * again: a switch waits behind every pool write.
   */
  async set(entry: LiveEntry): Promise<void> {
    const same =
      this.entry !== null &&
      this.entry.account === entry.account &&
      this.entry.sessionId === entry.sessionId &&
      this.entry.phase === entry.phase &&
      this.entry.mode === entry.mode;
    this.entry = entry;
    if (this.timer === null) this.beat();
    if (!same) await this.write();
  }

  /** Same as `set`, inside a transaction someone else is running (e.g. the selection's claim). */
  apply(pool: Pool, entry: LiveEntry): void {
    this.entry = entry;
    this.put(pool, entry);
  }

  /** Arms the next heartbeat; it re-arms itself until close(). Weak: it alone never keeps us up. */
  private beat(): void {
    this.timer = this.opts.clock.setTimer(
      () => {
        this.write().catch((error: unknown) => this.opts.onError?.(error));
        if (this.timer !== null) this.beat();
      },
      this.opts.heartbeatMs ?? HEARTBEAT_MS,
      { weak: true },
    );
  }

  private put(pool: Pool, entry: LiveEntry): void {
    const now = this.opts.clock.now();
    pruneSessions(pool, now, this.isAlive);
    const mode = entry.mode ?? this.mode;
    putSession(pool, this.me, mode === undefined ? entry : { ...entry, mode }, now);
  }

  private write(): Promise<void> {
    // Writes are chained so a heartbeat never races a phase change out of order. Each writes the
    // entry current when it gets the lock, and never sets it: a write queued earlier must not
    // bring back the entry it was queued for once a newer one is set.
    const run = async (): Promise<void> => {
      if (this.entry === null) return;
      await this.opts.store.transact((pool) => {
        const entry = this.entry;
        if (entry !== null) this.put(pool, entry);
      });
    };
    this.writing = this.writing.then(run, run);
    return this.writing;
  }

  /** Stops the heartbeat and removes our entry. */
  async close(): Promise<void> {
    this.timer?.cancel();
    this.timer = null;
    this.entry = null;
    // A failed heartbeat was reported when it happened; only the removal below matters now.
    await this.writing.catch(() => undefined);
    await this.opts.store.transact((pool) => {
      const now = this.opts.clock.now();
      pruneSessions(pool, now, this.isAlive);
      pool.sessions = pool.sessions.filter((s) => !isSelf(s, this.me));
    });
  }
}
