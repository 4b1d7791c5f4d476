/**
 * Live supervised sessions recorded in the pool (`pool.sessions`), so that other sessions and
 * `status` see which account each one runs on and what it is doing. Each supervisor keeps its own
 * entry fresh with a heartbeat and removes it on the way out; entries of processes that are gone
 * (same host: the pid is dead; another host: no heartbeat for HEARTBEAT_MAX_AGE_MS) are pruned by
 * whoever writes next. Every change is one short pool transaction: the pool lock is the only lock.
 */
import os from "node:os";
import type { Clock } from "../platform/clock.js";
import { processAlive } from "../platform/process-alive.js";
import type { LiveSession, Pool } from "../pool/schema.js";
import type { PoolStore } from "../pool/store.js";

export type LivePhase = LiveSession["phase"];

export const HEARTBEAT_MS = 30_000;
/** An entry not renewed for this long is gone (matches liveSessionAccounts in src/quota). */
export const HEARTBEAT_MAX_AGE_MS = 5 * 60_000;

export interface SessionIdentity {
  readonly pid: number;
  readonly host: string;
}

export type AliveCheck = (pid: number, host: string) => boolean;

export function defaultAliveCheck(pid: number, host: string): boolean {
  // Another host's pids mean nothing here: its entry lives or dies by its heartbeat.
  return host !== os.hostname() || processAlive(pid);
}

export function thisProcess(): SessionIdentity {
  return { pid: process.pid, host: os.hostname() };
}

function isSelf(s: LiveSession, me: SessionIdentity): boolean {
  return s.pid === me.pid && s.host === me.host;
}

/** Drops entries whose process is gone or whose heartbeat stopped; returns how many. */
export function pruneSessions(pool: Pool, now: number, isAlive: AliveCheck): number {
  const before = pool.sessions.length;
  pool.sessions = pool.sessions.filter(
    (s) => now - Date.parse(s.heartbeatAt) <= HEARTBEAT_MAX_AGE_MS && isAlive(s.pid, s.host),
  );
  return before - pool.sessions.length;
}

/** Accounts other live sessions run on, are moving to, or are draining (ours excluded). */
export function busyAccounts(
  pool: Pool,
  me: SessionIdentity,
  now: number,
  isAlive: AliveCheck,
): Set<string> {
  const busy = new Set<string>();
  for (const s of pool.sessions) {
    if (isSelf(s, me)) continue;
    if (now - Date.parse(s.heartbeatAt) > HEARTBEAT_MAX_AGE_MS || !isAlive(s.pid, s.host)) continue;
    busy.add(s.account);
  }
  return busy;
}

export interface LiveEntry {
  readonly account: string;
  readonly sessionId: string | null;
  readonly phase: LivePhase;
}

/** Sets (or adds) our entry in a pool being changed inside a transaction. */
export function putSession(pool: Pool, me: SessionIdentity, entry: LiveEntry, now: number): void {
  const at = new Date(now).toISOString();
  const existing = pool.sessions.find((s) => isSelf(s, me));
  if (existing) {
    existing.account = entry.account;
    existing.sessionId = entry.sessionId;
    existing.phase = entry.phase;
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
  /** Reports a failed heartbeat write (the session goes on; the next beat tries again). */
  readonly onError?: (error: unknown) => void;
}

/** Our entry in the pool, kept fresh by a heartbeat until `close()`. */
export class LiveSessionRecord {
  readonly me: SessionIdentity;
  private readonly opts: LiveSessionOptions;
  private readonly isAlive: AliveCheck;
  private entry: LiveEntry | null = null;
  private timer: NodeJS.Timeout | undefined;
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
      this.entry.phase === entry.phase;
    this.entry = entry;
    if (!same) await this.write();
    if (this.timer === undefined) {
      this.timer = setInterval(() => {
        this.write().catch((error: unknown) => this.opts.onError?.(error));
      }, this.opts.heartbeatMs ?? HEARTBEAT_MS);
      // The heartbeat alone must never keep the process alive.
      this.timer.unref();
    }
  }

  /** Same as `set`, inside a transaction someone else is running (e.g. the selection's claim). */
  apply(pool: Pool, entry: LiveEntry): void {
    this.entry = entry;
    this.put(pool, entry);
  }

  private put(pool: Pool, entry: LiveEntry): void {
    const now = this.opts.clock.now();
    pruneSessions(pool, now, this.isAlive);
    putSession(pool, this.me, entry, now);
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
    clearInterval(this.timer);
    this.timer = undefined;
    this.entry = null;
    await this.writing.catch(() => undefined);
    await this.opts.store.transact((pool) => {
      const now = this.opts.clock.now();
      pruneSessions(pool, now, this.isAlive);
      pool.sessions = pool.sessions.filter((s) => !isSelf(s, this.me));
    });
  }
}
