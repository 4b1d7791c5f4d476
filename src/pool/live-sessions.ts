/**
 * The one rule for "a live supervised session" (`pool.sessions`): an entry counts while its
 * heartbeat is younger than HEARTBEAT_MAX_AGE_MS and its process is alive. A process on another
 * host cannot be checked here: its entry lives or dies by its heartbeat alone. Everything that asks
 * "is this account in use by a running codex?" (selection avoiding busy accounts, probes that must
 * not spend a refresh token a codex owns, pruning) asks it here.
 */
import os from "node:os";
import { processAlive } from "../platform/process-alive.js";
import type { LiveSession, Pool } from "./schema.js";

/** How often a supervisor renews its entry (src/supervisor/live-sessions.ts). */
export const HEARTBEAT_MS = 30_000;
/** An entry not renewed for this long is gone: ten missed heartbeats. */
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

export function isSelf(s: Pick<LiveSession, "pid" | "host">, me: SessionIdentity): boolean {
  return s.pid === me.pid && s.host === me.host;
}

export function isLive(s: LiveSession, now: number, isAlive: AliveCheck): boolean {
  return now - Date.parse(s.heartbeatAt) <= HEARTBEAT_MAX_AGE_MS && isAlive(s.pid, s.host);
}

/** Accounts live sessions run on, are moving to, or are draining (`except`'s own excluded). */
export function liveSessionAccounts(
  pool: Pool,
  now: number,
  isAlive: AliveCheck = defaultAliveCheck,
  except: SessionIdentity | null = null,
): Set<string> {
  const accounts = new Set<string>();
  for (const s of pool.sessions) {
    if (except !== null && isSelf(s, except)) continue;
    if (isLive(s, now, isAlive)) accounts.add(s.account);
  }
  return accounts;
}

/**
 * Accounts whose refresh token a live session's codex holds now (relaunch mode, or an entry of a
 * codex-pool that does not record its mode): nothing else may refresh them (decision 3). A live-mode
 * session's codex holds none (decision 11).
 */
export function refreshHeldAccounts(
  pool: Pool,
  now: number,
  isAlive: AliveCheck = defaultAliveCheck,
  except: SessionIdentity | null = null,
): Set<string> {
  const accounts = new Set<string>();
  for (const s of pool.sessions) {
    if (except !== null && isSelf(s, except)) continue;
    if (s.mode !== "live" && isLive(s, now, isAlive)) accounts.add(s.account);
  }
  return accounts;
}

/** Drops entries that are no longer live; returns how many. */
export function pruneSessions(pool: Pool, now: number, isAlive: AliveCheck): number {
  const before = pool.sessions.length;
  pool.sessions = pool.sessions.filter((s) => isLive(s, now, isAlive));
  return before - pool.sessions.length;
}
