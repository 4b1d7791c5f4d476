/**
 * The one rule for "a live supervised session" (`pool.sessions`), and for whose refresh token a
 * live session's codex holds. Each entry is a lease on its account (docs/team-pool.md "Session
 * leases"): its holder renews it every HEARTBEAT_MS, and it lapses at its `expiresAt` — set by the
 * holder to its heartbeat + LEASE_TTL_MS, by the database clock on PostgreSQL (src/pool/pg/rows.ts
 * turns it into a time on this machine's clock). On this host a dead process's entry is gone at
 * once; another host's pids cannot be checked here, so its entry lives or dies by its lease alone.
 * Everything that asks "is this account in use?" (selection avoiding busy accounts, pruning,
 * `status`/`list`) or "may this refresh token be spent?" (the refresh coordinators, probes,
 * launches) asks it here.
 */
import os from "node:os";
import { classed } from "../platform/errors.js";
import { processAlive } from "../platform/process-alive.js";
import { accountName } from "./account-name.js";
import type { Account, LiveSession, Pool } from "./schema.js";

/**
 * How often a supervisor renews its lease (src/supervisor/live-sessions.ts), and how long a lease
 * lives after its last renewal. 90 s brings a dead machine's account back within a minute and a
 * half — about as long as a person waits before looking at another seat — while four renewals in a
 * row may fail (a pool lock waited out for lock_wait_ms, a database failover, a loaded laptop)
 * before a live session loses its account. Longer silences (a laptop asleep) lose it whatever the
 * TTL; that is what the lost-lease path is for.
 */
export const HEARTBEAT_MS = 20_000;
export const LEASE_TTL_MS = 90_000;

export interface SessionIdentity {
  readonly pid: number;
  readonly host: string;
}

export type AliveCheck = (pid: number, host: string) => boolean;

export function defaultAliveCheck(pid: number, host: string): boolean {
  // Another host's pids mean nothing here: its entry lives or dies by its lease.
  return host !== os.hostname() || processAlive(pid);
}

export function thisProcess(): SessionIdentity {
  return { pid: process.pid, host: os.hostname() };
}

export function isSelf(s: Pick<LiveSession, "pid" | "host">, me: SessionIdentity): boolean {
  return s.pid === me.pid && s.host === me.host;
}

/** When the entry's lease runs out (an entry written before leases had one: heartbeat + TTL). */
export function leaseExpiry(s: LiveSession): number {
  return s.expiresAt !== undefined
    ? Date.parse(s.expiresAt)
    : Date.parse(s.heartbeatAt) + LEASE_TTL_MS;
}

export function isLive(s: LiveSession, now: number, isAlive: AliveCheck): boolean {
  return now < leaseExpiry(s) && isAlive(s.pid, s.host);
}

/**
 * Whether the entry's codex holds its account's refresh token: relaunch mode hands codex the
 * account's tokens and codex refreshes them itself (docs/decisions.md decision 3); live mode never
 * gives codex a refresh token (decision 11). Entries that do not say hold it.
 */
export function holdsRefreshToken(s: LiveSession): boolean {
  return s.holdsRefreshToken !== false;
}

/** Live sessions other than `except` on `account`. */
export function sessionsOn(
  pool: Pool,
  account: string,
  now: number,
  isAlive: AliveCheck = defaultAliveCheck,
  except: SessionIdentity | null = null,
): LiveSession[] {
  return pool.sessions.filter(
    (s) =>
      s.account === account && (except === null || !isSelf(s, except)) && isLive(s, now, isAlive),
  );
}

/** Accounts live sessions run on, are moving to, or are draining (`except`'s own excluded). */
export function liveSessionAccounts(
  pool: Pool,
  now: number,
  isAlive: AliveCheck = defaultAliveCheck,
  except: SessionIdentity | null = null,
): Set<string> {
  return accountsOfLive(pool, now, isAlive, except, () => true);
}

/** The accounts of live sessions (`except`'s own excluded) that `which` picks. */
function accountsOfLive(
  pool: Pool,
  now: number,
  isAlive: AliveCheck,
  except: SessionIdentity | null,
  which: (s: LiveSession) => boolean,
): Set<string> {
  const accounts = new Set<string>();
  for (const s of pool.sessions) {
    if (except !== null && isSelf(s, except)) continue;
    if (which(s) && isLive(s, now, isAlive)) accounts.add(s.account);
  }
  return accounts;
}

/**
 * Accounts whose refresh token the codex of a live session (not `except`'s) holds now: nothing else
 * may refresh them (docs/decisions.md decision 3). A live-mode session's codex holds none
 * (decision 11).
 */
export function refreshHeldAccounts(
  pool: Pool,
  now: number,
  isAlive: AliveCheck = defaultAliveCheck,
  except: SessionIdentity | null = null,
): Set<string> {
  return accountsOfLive(pool, now, isAlive, except, holdsRefreshToken);
}

/** "host-b (pid 4242)", or "pid 4242 on this machine". */
export function describeHolder(s: Pick<LiveSession, "pid" | "host">): string {
  return s.host === os.hostname() ? `pid ${s.pid} on this machine` : `${s.host} (pid ${s.pid})`;
}

/**
 * An account's refresh token may not be spent here: the codex of a live session on another
 * process or machine holds it. Callers treat it as "owned by a running codex": probes skip the
 * account, launches do not refresh it, `status --refresh` says so.
 */
export class RefreshTokenHeldError extends classed("busy") {
  readonly holders: readonly LiveSession[];
  constructor(message: string, holders: readonly LiveSession[]) {
    super(message, {
      hint: "wait for that session to end (its codex's tokens then come back to the pool), or use another account",
    });
    this.holders = holders;
  }
}

/** Live sessions other than `me` whose codex holds `account`'s refresh token. */
export function refreshTokenHolders(
  sessions: readonly LiveSession[],
  account: string,
  now: number,
  me: SessionIdentity,
  isAlive: AliveCheck = defaultAliveCheck,
): LiveSession[] {
  return sessions.filter(
    (s) =>
      s.account === account && holdsRefreshToken(s) && !isSelf(s, me) && isLive(s, now, isAlive),
  );
}

/** The error for `name` (as accountName gives it) held by `holders`. */
export function refreshTokenHeld(
  name: string,
  holders: readonly LiveSession[],
): RefreshTokenHeldError {
  return new RefreshTokenHeldError(
    `the refresh token of ${name} is held by the codex of a running session (${holders.map(describeHolder).join(", ")}); only that codex may spend it until its session ends`,
    holders,
  );
}

/**
 * Throws RefreshTokenHeldError when a live session other than `me` holds `account`'s refresh token
 * in `pool`. The refresh coordinators ask it under their claim or lease, right before the send
 * (docs/team-pool.md "Refresh protocol", step 4).
 */
export function assertRefreshable(
  pool: Pool,
  account: Pick<Account, "id" | "email" | "label">,
  now: number,
  me: SessionIdentity,
  isAlive: AliveCheck = defaultAliveCheck,
): void {
  const holders = refreshTokenHolders(pool.sessions, account.id, now, me, isAlive);
  if (holders.length > 0) throw refreshTokenHeld(accountName(pool, account), holders);
}

/** Drops entries that are no longer live; returns how many. */
export function pruneSessions(pool: Pool, now: number, isAlive: AliveCheck): number {
  const before = pool.sessions.length;
  pool.sessions = pool.sessions.filter((s) => isLive(s, now, isAlive));
  return before - pool.sessions.length;
}
