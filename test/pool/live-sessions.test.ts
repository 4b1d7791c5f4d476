/**
 * The one rule for "a live supervised session" (src/pool/live-sessions.ts): a lease not yet lapsed
 * and a living process; another host's entry by its lease alone. Selection, probes that must not
 * spend a codex-owned refresh token, and pruning all ask it; and the rule for whose refresh token
 * a live session's codex holds, which the refresh coordinators ask before every send.
 */
import { describe, expect, it } from "vitest";
import {
  LEASE_TTL_MS,
  RefreshTokenHeldError,
  assertRefreshable,
  isLive,
  liveSessionAccounts,
  pruneSessions,
  refreshHeldAccounts,
  refreshTokenHolders,
} from "../../src/pool/live-sessions.js";
import { isCodexPoolError } from "../../src/platform/errors.js";
import { emptyPool, type LiveSession, type Pool } from "../../src/pool/schema.js";

const NOW = Date.parse("2026-06-01T12:00:00Z");
const iso = (ms: number): string => new Date(ms).toISOString();

function entry(pid: number, account: string, heartbeatAgeMs = 0, host = "here"): LiveSession {
  return {
    pid,
    host,
    account,
    sessionId: null,
    phase: "running",
    startedAt: iso(NOW - 3600_000),
    heartbeatAt: iso(NOW - heartbeatAgeMs),
  };
}

const poolWith = (sessions: LiveSession[]): Pool => ({ ...emptyPool(), sessions });
/** pid 300 is dead here; another host's pids cannot be checked, so they count as alive. */
const alive = (pid: number, host: string): boolean => host !== "here" || pid !== 300;

describe("a live session", () => {
  it("lives until its lease lapses, with a living process", () => {
    expect(isLive(entry(200, "a"), NOW, alive)).toBe(true);
    // An entry without an expiry (written before leases had one): its heartbeat + the TTL.
    expect(isLive(entry(200, "a", LEASE_TTL_MS - 1), NOW, alive)).toBe(true);
    expect(isLive(entry(200, "a", LEASE_TTL_MS), NOW, alive)).toBe(false);
    // The expiry its holder wrote decides, whatever its heartbeat's age (a longer TTL elsewhere).
    const long = { ...entry(200, "a", 10 * LEASE_TTL_MS), expiresAt: iso(NOW + 1) };
    expect(isLive(long, NOW, alive)).toBe(true);
    expect(isLive({ ...entry(200, "a"), expiresAt: iso(NOW) }, NOW, alive)).toBe(false);
    expect(isLive(entry(300, "a"), NOW, alive)).toBe(false);
    // Same pid on another host: judged by its heartbeat only.
    expect(isLive(entry(300, "a", 0, "elsewhere"), NOW, alive)).toBe(true);
  });

  it("live accounts: the live sessions' accounts, without the one asking", () => {
    const pool = poolWith([
      entry(100, "acc_mine"),
      entry(200, "acc_a"),
      { ...entry(201, "acc_b"), phase: "draining" },
      entry(300, "acc_dead"),
      entry(400, "acc_silent", LEASE_TTL_MS + 1),
      entry(100, "acc_remote", 0, "elsewhere"),
    ]);
    expect([...liveSessionAccounts(pool, NOW, alive)].sort()).toEqual([
      "acc_a",
      "acc_b",
      "acc_mine",
      "acc_remote",
    ]);
    const others = liveSessionAccounts(pool, NOW, alive, { pid: 100, host: "here" });
    expect([...others].sort()).toEqual(["acc_a", "acc_b", "acc_remote"]);
  });

  it("pruning drops what is not live, and says how much", () => {
    const pool = poolWith([
      entry(200, "acc_a"),
      entry(300, "acc_b"), // dead
      entry(400, "acc_c", LEASE_TTL_MS + 1), // alive, but silent too long
      entry(500, "acc_d", LEASE_TTL_MS - 1), // a millisecond left: still live
    ]);
    expect(pruneSessions(pool, NOW, alive)).toBe(2);
    expect(pool.sessions.map((s) => s.pid)).toEqual([200, 500]);
  });

  it("a refresh token is held by live sessions whose codex holds it, never by the one asking", () => {
    const pool = poolWith([
      entry(100, "acc_a"), // ours
      entry(200, "acc_a", 0, "elsewhere"), // relaunch mode on another machine (says nothing: holds)
      { ...entry(201, "acc_b", 0, "elsewhere"), holdsRefreshToken: false }, // live mode: never
      { ...entry(202, "acc_c", 0, "elsewhere"), holdsRefreshToken: true },
      { ...entry(203, "acc_d", LEASE_TTL_MS + 1, "elsewhere"), holdsRefreshToken: true }, // lapsed
      { ...entry(300, "acc_e"), holdsRefreshToken: true }, // its process is gone
    ]);
    const me = { pid: 100, host: "here" };
    expect([...refreshHeldAccounts(pool, NOW, alive, me)].sort()).toEqual(["acc_a", "acc_c"]);
    expect(refreshTokenHolders(pool.sessions, "acc_a", NOW, me, alive).map((s) => s.pid)).toEqual([
      200,
    ]);
    expect(
      refreshTokenHolders(pool.sessions, "acc_a", NOW, { pid: 200, host: "elsewhere" }, alive),
    ).toHaveLength(1); // asked from "elsewhere", the session here (pid 100) holds it
    expect(refreshTokenHolders(pool.sessions, "acc_b", NOW, me, alive)).toEqual([]);
    expect(refreshTokenHolders(pool.sessions, "acc_d", NOW, me, alive)).toEqual([]);
    expect(refreshTokenHolders(pool.sessions, "acc_e", NOW, me, alive)).toEqual([]);
  });

  it("a held refresh token refuses the spend with a typed error that names the holder", () => {
    const account = {
      id: "acc_aaaaaa",
      email: "alice@example.com",
      label: null,
    };
    const pool = {
      ...poolWith([entry(200, "acc_aaaaaa", 0, "host-b")]),
      accounts: [account] as unknown as Pool["accounts"],
    };
    let caught: unknown = null;
    try {
      assertRefreshable(pool, account, NOW, { pid: 100, host: "here" }, alive);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(RefreshTokenHeldError);
    expect(isCodexPoolError(caught) && caught.errorCode).toBe("busy");
    expect(String((caught as Error).message)).toBe(
      "the refresh token of #1 alice@… is held by the codex of a running session (host-b (pid 200)); only that codex may spend it until its session ends",
    );
    // The holder itself may spend it; and once its lease lapsed, anyone may.
    expect(() =>
      assertRefreshable(pool, account, NOW, { pid: 200, host: "host-b" }, alive),
    ).not.toThrow();
    expect(() =>
      assertRefreshable(pool, account, NOW + LEASE_TTL_MS, { pid: 100, host: "here" }, alive),
    ).not.toThrow();
  });
});
