/**
 * The one rule for "a live supervised session" (src/pool/live-sessions.ts): a fresh heartbeat and
 * a living process; another host's entry by its heartbeat alone. Selection, probes that must not
 * spend a codex-owned refresh token, and pruning all ask it.
 */
import { describe, expect, it } from "vitest";
import {
  HEARTBEAT_MAX_AGE_MS,
  isLive,
  liveSessionAccounts,
  pruneSessions,
  refreshHeldAccounts,
} from "../../src/pool/live-sessions.js";
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
  it("holds its account's refresh token unless it runs in live mode (or is gone)", () => {
    const pool = poolWith([
      { ...entry(100, "acc_mine"), mode: "relaunch" },
      { ...entry(200, "acc_relaunch"), mode: "relaunch" },
      { ...entry(201, "acc_live"), mode: "live" },
      entry(202, "acc_unsaid"), // an older codex-pool: it may well hold it
      { ...entry(300, "acc_dead"), mode: "relaunch" },
    ]);
    const held = refreshHeldAccounts(pool, NOW, alive, { pid: 100, host: "here" });
    expect([...held].sort()).toEqual(["acc_relaunch", "acc_unsaid"]);
  });

  it("has a heartbeat no older than the limit and a living process", () => {
    expect(isLive(entry(200, "a"), NOW, alive)).toBe(true);
    expect(isLive(entry(200, "a", HEARTBEAT_MAX_AGE_MS), NOW, alive)).toBe(true);
    expect(isLive(entry(200, "a", HEARTBEAT_MAX_AGE_MS + 1), NOW, alive)).toBe(false);
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
      entry(400, "acc_silent", HEARTBEAT_MAX_AGE_MS + 1),
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
      entry(400, "acc_c", HEARTBEAT_MAX_AGE_MS + 1), // alive, but silent too long
      entry(500, "acc_d", HEARTBEAT_MAX_AGE_MS), // exactly at the limit: still live
    ]);
    expect(pruneSessions(pool, NOW, alive)).toBe(2);
    expect(pool.sessions.map((s) => s.pid)).toEqual([200, 500]);
  });
});
