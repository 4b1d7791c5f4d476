/**
 * Our own entry among the pool's live supervised sessions (`pool.sessions`): our lease on the
 * account we run on (docs/team-pool.md "Session leases"), so that other sessions — on this machine
 * or another — see which account we run on and what we are doing, and leave its refresh token to
 * our codex while it holds it. The lease is renewed by a heartbeat on the clock's timers and
 * removed on the way out; what makes an entry live is the pool's rule (src/pool/live-sessions.ts).
 * Every change is one short pool transaction: the pool lock is the only lock.
 *
 * A renewal that finds our lease gone (it lapsed while we were silent — a stopped process, a
 * sleeping laptop, a lost network — and another machine pruned it, or it is past its expiry) takes
 * it again at once. If another session now runs that account, the listener hears so (the runner
 * turns it into the machine's `leaseLost`, and the session moves at its next turn boundary); if
 * the account is free, nothing is said.
 *
 * A heartbeat that fails is not swallowed: other sessions take our account once our lease lapses,
 * so each failure is reported (the supervisor says so after codex exits, and in `--json`).
 */
import type { Clock, Timer } from "../platform/clock.js";
import {
  HEARTBEAT_MS,
  LEASE_TTL_MS,
  defaultAliveCheck,
  isLive,
  isSelf,
  liveSessionAccounts,
  pruneSessions,
  sessionsOn,
  thisProcess,
  type AliveCheck,
  type SessionIdentity,
} from "../pool/live-sessions.js";
import type { LiveSession, Pool } from "../pool/schema.js";
import type { PoolStore } from "../pool/store.js";

export {
  HEARTBEAT_MS,
  LEASE_TTL_MS,
  defaultAliveCheck,
  pruneSessions,
  thisProcess,
  type AliveCheck,
  type SessionIdentity,
} from "../pool/live-sessions.js";

export type LivePhase = LiveSession["phase"];
export type SessionMode = "live" | "relaunch";

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
  /**
   * How the session moves: "live" (its codex holds access tokens only, the pool refreshes,
   * docs/decisions.md decision 11) or "relaunch" (its codex holds the account's refresh token while
   * it runs, decision 3). Absent: not known yet, taken as relaunch. Recorded as holdsRefreshToken.
   */
  readonly mode?: SessionMode;
}

/** The terms of our lease: how long it lives past each renewal. */
export interface LeaseTerms {
  readonly ttlMs: number;
}

const DEFAULT_LEASE: LeaseTerms = { ttlMs: LEASE_TTL_MS };

/** Our lease lapsed and other live sessions (`by`) now run its account. */
export interface LostLease {
  readonly account: string;
  readonly by: readonly LiveSession[];
}

/** Sets (or adds) our entry in a pool being changed inside a transaction, renewing its lease. */
export function putSession(
  pool: Pool,
  me: SessionIdentity,
  entry: LiveEntry,
  now: number,
  lease: LeaseTerms = DEFAULT_LEASE,
): void {
  const at = new Date(now).toISOString();
  const fields = { account: entry.account, sessionId: entry.sessionId, phase: entry.phase };
  const renewed = {
    heartbeatAt: at,
    expiresAt: new Date(now + lease.ttlMs).toISOString(),
    // A live-mode codex never gets a refresh token (docs/decisions.md decision 11); waiting for a
    // reset, no codex runs: its tokens were taken back when it stopped.
    holdsRefreshToken: entry.mode !== "live" && entry.phase !== "waiting",
  };
  const existing = pool.sessions.find((s) => isSelf(s, me));
  if (existing) {
    Object.assign(existing, fields, renewed);
    return;
  }
  pool.sessions.push({ pid: me.pid, host: me.host, ...fields, startedAt: at, ...renewed });
}

export interface LiveSessionOptions {
  readonly store: PoolStore;
  readonly clock: Clock;
  readonly me?: SessionIdentity;
  readonly isAlive?: AliveCheck;
  readonly heartbeatMs?: number;
  /** The lease's life past each renewal (default LEASE_TTL_MS): several heartbeats long. */
  readonly ttlMs?: number;
  /** Told of each failed heartbeat write (the session goes on; the next beat tries again). */
  readonly onError?: (error: unknown) => void;
}

/** Our entry in the pool, kept fresh by a heartbeat until `close()`. */
export class LiveSessionRecord {
  readonly me: SessionIdentity;
  readonly lease: LeaseTerms;
  private readonly opts: LiveSessionOptions;
  private readonly isAlive: AliveCheck;
  private entry: LiveEntry | null = null;
  /** We wrote a lease and have not given it up: finding it gone means it lapsed. */
  private held = false;
  private lost: ((lost: LostLease) => void) | null = null;
  private timer: Timer | null = null;
  /** Recorded with every entry that does not say its own (e.g. a selection's claim). */
  mode: SessionMode | undefined = undefined;
  private writing: Promise<void> = Promise.resolve();

  constructor(options: LiveSessionOptions) {
    this.opts = options;
    this.me = options.me ?? thisProcess();
    this.isAlive = options.isAlive ?? defaultAliveCheck;
    this.lease = { ttlMs: options.ttlMs ?? DEFAULT_LEASE.ttlMs };
  }

  get current(): LiveEntry | null {
    return this.entry;
  }

  /** Who hears that our lease lapsed and another session now runs its account (one listener). */
  onLost(listener: (lost: LostLease) => void): void {
    this.lost = listener;
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
    // Kept with the mode it was written with, so the runner's own record of it (which names the
    // mode) is seen as the same and not written again.
    const mode = entry.mode ?? this.mode;
    this.entry = mode === undefined ? entry : { ...entry, mode };
    this.put(pool, entry);
    this.held = true;
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
    putSession(pool, this.me, mode === undefined ? entry : { ...entry, mode }, now, this.lease);
  }

  /**
   * Renews our lease inside a transaction. When it had lapsed, returns who runs its account now
   * (null: it had not lapsed, or nobody else took the account: it is simply ours again).
   */
  private renew(pool: Pool, entry: LiveEntry): LostLease | null {
    const now = this.opts.clock.now();
    const mine = pool.sessions.some((s) => isSelf(s, this.me) && isLive(s, now, this.isAlive));
    const by =
      this.held && !mine ? sessionsOn(pool, entry.account, now, this.isAlive, this.me) : [];
    this.put(pool, entry);
    return by.length > 0 ? { account: entry.account, by } : null;
  }

  private write(): Promise<void> {
    // Writes are chained so a heartbeat never races a phase change out of order. Each writes the
    // entry current when it gets the lock, and never sets it: a write queued earlier must not
    // bring back the entry it was queued for once a newer one is set.
    const run = async (): Promise<void> => {
      if (this.entry === null) return;
      const lost = await this.opts.store.transact((pool) => {
        const entry = this.entry;
        return entry === null ? null : this.renew(pool, entry);
      });
      if (this.entry !== null) this.held = true;
      if (lost !== null) this.lost?.(lost);
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
    this.held = false;
    await this.opts.store.transact((pool) => {
      const now = this.opts.clock.now();
      pruneSessions(pool, now, this.isAlive);
      pool.sessions = pool.sessions.filter((s) => !isSelf(s, this.me));
    });
  }
}
