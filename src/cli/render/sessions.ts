/**
 * The supervised sessions an account is in use by, as `list` and `status` show them: the machine
 * (host) each runs on and whether its lease is current (src/pool/live-sessions.ts; docs/team-pool.md
 * "Session leases"). An entry whose lease lapsed is still shown until the next pool change prunes it:
 * its machine went silent, and its account is free for others.
 */
import os from "node:os";
import {
  defaultAliveCheck,
  holdsRefreshToken,
  isLive,
  leaseExpiry,
  type AliveCheck,
} from "../../pool/live-sessions.js";
import type { LiveSession, Pool } from "../../pool/schema.js";
import { formatDuration } from "./time.js";

export interface SessionView {
  readonly host: string;
  readonly pid: number;
  readonly sessionId: string | null;
  readonly phase: LiveSession["phase"];
  /** current: renewed in time; lapsed: its holder went silent (or, on this host, is gone). */
  readonly lease: "current" | "lapsed";
  readonly heartbeatAt: string;
  readonly expiresAt: string;
  /** Its codex holds the account's refresh token: nobody else refreshes the account meanwhile. */
  readonly holdsRefreshToken: boolean;
}

/** The sessions on `account`, oldest first. */
export function sessionViews(
  pool: Pool,
  account: string,
  now: number,
  isAlive: AliveCheck = defaultAliveCheck,
): SessionView[] {
  return pool.sessions
    .filter((s) => s.account === account)
    .map((s) => ({
      host: s.host,
      pid: s.pid,
      sessionId: s.sessionId,
      phase: s.phase,
      lease: isLive(s, now, isAlive) ? "current" : "lapsed",
      heartbeatAt: s.heartbeatAt,
      expiresAt: new Date(leaseExpiry(s)).toISOString(),
      holdsRefreshToken: holdsRefreshToken(s),
    }));
}

/** "this machine", "host-b", "host-b (lease lapsed 40s ago)"; "" when none. */
export function inUseText(views: readonly SessionView[], now: number): string {
  return views
    .map((v) => {
      const where = v.host === os.hostname() ? "this machine" : v.host;
      if (v.lease === "current") return where;
      const since = now - Date.parse(v.expiresAt);
      // Not expired yet, yet not live: its process on this host is gone.
      if (since < 0) return `${where} (session ended)`;
      return `${where} (lease lapsed ${formatDuration(since, "s")} ago)`;
    })
    .join(", ");
}
