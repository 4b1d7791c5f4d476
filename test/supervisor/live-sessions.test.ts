/**
 * Our live-session record (src/supervisor/live-sessions.ts) against a real pool file, in virtual
 * time: busy accounts, a record's lifecycle (set, heartbeat, close), a failing heartbeat reported
 * rather than swallowed, and a lease that lapsed while we were silent — taken again quietly when
 * the account is free, reported when another session took the account. The rule for "live" itself
 * is tested in test/pool.
 */
import { describe, expect, it } from "vitest";
import { poolPaths } from "../../src/platform/paths.js";
import { emptyPool, type LiveSession, type Pool } from "../../src/pool/schema.js";
import { FilePoolStore } from "../../src/pool/file-store.js";
import type { TransactContext, TransactOptions } from "../../src/pool/store.js";
import {
  HEARTBEAT_MS,
  LEASE_TTL_MS,
  LiveSessionRecord,
  busyAccounts,
  putSession,
  type LostLease,
  type SessionIdentity,
} from "../../src/supervisor/live-sessions.js";
import { tempDir } from "../helpers/tmp.js";
import { VirtualClock, settle } from "../helpers/virtual-clock.js";

const NOW = Date.parse("2026-06-01T12:00:00Z");
const iso = (ms: number): string => new Date(ms).toISOString();
const ME: SessionIdentity = { pid: 100, host: "here" };

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

/** The real store, announcing each committed transaction (a pass-through spy). */
class ObservedStore extends FilePoolStore {
  private waiters: (() => void)[] = [];

  nextCommit(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  override async transact<T>(
    fn: (pool: Pool, tx: TransactContext) => T | Promise<T>,
    options?: TransactOptions<T>,
  ): Promise<T> {
    const result = await super.transact(fn, options);
    for (const wake of this.waiters.splice(0)) wake();
    return result;
  }
}

function poolWith(sessions: LiveSession[]): Pool {
  return { ...emptyPool(), sessions };
}

describe("live sessions in the pool", () => {
  it("busy accounts: other live sessions' accounts, never our own, never the dead", () => {
    const pool = poolWith([
      entry(ME.pid, "acc_mine"),
      entry(200, "acc_a"),
      { ...entry(201, "acc_b"), phase: "draining" },
      { ...entry(202, "acc_c"), phase: "switching" },
      entry(300, "acc_dead"),
      entry(400, "acc_silent", LEASE_TTL_MS + 1),
      // Same pid on another host: another machine's session, judged by its heartbeat only.
      entry(ME.pid, "acc_remote", 0, "elsewhere"),
    ]);
    const alive = (pid: number, host: string): boolean => host !== "here" || pid !== 300;
    const busy = busyAccounts(pool, ME, NOW, alive);
    expect([...busy].sort()).toEqual(["acc_a", "acc_b", "acc_c", "acc_remote"]);
  });

  it("putSession updates our entry in place and adds it once", () => {
    const pool = poolWith([entry(200, "acc_a")]);
    putSession(pool, ME, { account: "acc_x", sessionId: null, phase: "switching" }, NOW - 1000);
    putSession(pool, ME, { account: "acc_y", sessionId: "s1", phase: "running" }, NOW);
    const mine = pool.sessions.filter((s) => s.pid === ME.pid);
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({
      account: "acc_y",
      sessionId: "s1",
      phase: "running",
      startedAt: iso(NOW - 1000),
      heartbeatAt: iso(NOW),
      expiresAt: iso(NOW + LEASE_TTL_MS),
      holdsRefreshToken: true,
    });
    const live = { account: "acc_y", sessionId: "s1", phase: "running", mode: "live" } as const;
    putSession(pool, ME, live, NOW, { ttlMs: 5000 });
    expect(mine[0]).toMatchObject({ expiresAt: iso(NOW + 5000), holdsRefreshToken: false });
    // Waiting for a reset, no codex runs: nothing is held, whatever the mode.
    putSession(pool, ME, { account: "acc_y", sessionId: "s1", phase: "waiting" }, NOW);
    expect(mine[0]).toMatchObject({ phase: "waiting", holdsRefreshToken: false });
    putSession(pool, ME, { account: "acc_y", sessionId: "s1", phase: "running" }, NOW);
    expect(mine[0]).toMatchObject({ phase: "running", holdsRefreshToken: true });
  });

  it("a record writes its entry, renews the heartbeat, prunes the dead, and removes itself", async () => {
    await using dir = await tempDir();
    const store = new ObservedStore({
      paths: poolPaths(dir.path),
      lockWaitMs: 5000,
      lockStaleMs: 30_000,
    });
    await store.transact((pool) => {
      pool.sessions = [entry(300, "acc_dead"), entry(200, "acc_a")];
    });
    const clock = new VirtualClock(NOW);
    const record = new LiveSessionRecord({
      store,
      clock,
      me: ME,
      isAlive: (pid) => pid !== 300,
      heartbeatMs: 30_000,
    });
    try {
      await record.set({ account: "acc_b", sessionId: null, phase: "running" });
      let pool = await store.read();
      expect(pool.sessions.map((s) => [s.pid, s.account])).toEqual([
        [200, "acc_a"],
        [ME.pid, "acc_b"],
      ]);
      // The heartbeat rewrites our entry with the current time.
      const beat = store.nextCommit();
      await clock.advance(30_000);
      await beat;
      pool = await store.read();
      expect(pool.sessions.find((s) => s.pid === ME.pid)?.heartbeatAt).toBe(iso(NOW + 30_000));
      expect(record.current).toEqual({ account: "acc_b", sessionId: null, phase: "running" });
    } finally {
      await record.close();
    }
    const after = await store.read();
    expect(after.sessions.map((s) => s.pid)).toEqual([200]);
  });

  it("a heartbeat that cannot write is reported, and the next one tries again", async () => {
    await using dir = await tempDir();
    const store = new FailingStore({
      paths: poolPaths(dir.path),
      lockWaitMs: 5000,
      lockStaleMs: 30_000,
    });
    const clock = new VirtualClock(NOW);
    const errors: string[] = [];
    const record = new LiveSessionRecord({
      store,
      clock,
      me: ME,
      isAlive: () => true,
      heartbeatMs: 30_000,
      onError: (error) => errors.push(String(error)),
    });
    await record.set({ account: "acc_b", sessionId: null, phase: "running" });
    store.failing = true;
    await clock.advance(30_000);
    await clock.until("the failure to be reported", () => errors.length === 1);
    expect(errors[0]).toMatch(/the disk is full/);
    store.failing = false;
    const beat = store.nextCommit();
    await clock.advance(30_000);
    await beat;
    expect((await store.read()).sessions[0]?.heartbeatAt).toBe(iso(NOW + 60_000));
    expect(errors).toHaveLength(1);
    await record.close();
  });
});

describe("a lease that lapsed while we were silent", () => {
  const OTHER: SessionIdentity = { pid: 900, host: "host-b" };

  /** Our record on acc_a whose writes fail (we are silent) until `speak()`. */
  async function silentRecord(dir: string): Promise<{
    clock: VirtualClock;
    store: FailingStore;
    record: LiveSessionRecord;
    lost: LostLease[];
    other: FilePoolStore;
  }> {
    const paths = poolPaths(dir);
    const store = new FailingStore({ paths, lockWaitMs: 5000, lockStaleMs: 30_000 });
    const other = new FilePoolStore({ paths, lockWaitMs: 5000, lockStaleMs: 30_000 });
    const clock = new VirtualClock(NOW);
    const lost: LostLease[] = [];
    const record = new LiveSessionRecord({ store, clock, me: ME, isAlive: () => true });
    record.onLost((l) => lost.push(l));
    await record.set({ account: "acc_a", sessionId: "s1", phase: "running" });
    store.failing = true;
    // Silent past the lease: every renewal fails.
    await clock.advance(LEASE_TTL_MS + HEARTBEAT_MS);
    return { clock, store, record, lost, other };
  }

  it("another session took the account: the next renewal takes the lease again and says who", async () => {
    await using dir = await tempDir();
    const { clock, store, record, lost, other } = await silentRecord(dir.path);
    try {
      // Another machine now runs acc_a: its own write prunes our lapsed entry.
      const machine2 = new LiveSessionRecord({
        store: other,
        clock,
        me: OTHER,
        isAlive: () => true,
      });
      await machine2.set({ account: "acc_a", sessionId: "s2", phase: "running" });
      expect((await other.read()).sessions.map((s) => s.pid)).toEqual([OTHER.pid]);
      expect(lost).toEqual([]);
      store.failing = false;
      const beat = store.nextCommit();
      await clock.advance(HEARTBEAT_MS);
      await beat;
      await clock.until("the lost lease to be told", () => lost.length > 0);
      expect(lost).toHaveLength(1);
      expect(lost[0]?.account).toBe("acc_a");
      expect(lost[0]?.by.map((s) => [s.host, s.pid])).toEqual([[OTHER.host, OTHER.pid]]);
      // Ours is recorded again (we still run there until we move), beside theirs.
      const pool = await store.read();
      expect(pool.sessions.map((s) => [s.pid, s.account]).sort()).toEqual([
        [ME.pid, "acc_a"],
        [OTHER.pid, "acc_a"],
      ]);
      // Told once: the next renewals find our lease current.
      const next = store.nextCommit();
      await clock.advance(HEARTBEAT_MS);
      await next;
      await settle();
      expect(lost).toHaveLength(1);
      await machine2.close();
    } finally {
      await record.close();
    }
  });

  it("the account is still free: the lease is taken again quietly", async () => {
    await using dir = await tempDir();
    const { clock, store, record, lost, other } = await silentRecord(dir.path);
    try {
      // Another session came and went meanwhile, pruning our lapsed entry on its way.
      const machine2 = new LiveSessionRecord({
        store: other,
        clock,
        me: OTHER,
        isAlive: () => true,
      });
      await machine2.set({ account: "acc_b", sessionId: "s2", phase: "running" });
      expect((await other.read()).sessions.map((s) => s.pid)).toEqual([OTHER.pid]);
      store.failing = false;
      const beat = store.nextCommit();
      await clock.advance(HEARTBEAT_MS);
      await beat;
      await settle();
      expect(lost).toEqual([]);
      const mine = (await store.read()).sessions.find((s) => s.pid === ME.pid);
      expect(mine).toMatchObject({
        account: "acc_a",
        expiresAt: iso(clock.now() + LEASE_TTL_MS),
      });
      await machine2.close();
    } finally {
      await record.close();
    }
  });
});

/** The real store, failing its writes while `failing` is set. */
class FailingStore extends ObservedStore {
  failing = false;

  override async transact<T>(
    fn: (pool: Pool, tx: TransactContext) => T | Promise<T>,
    options?: TransactOptions<T>,
  ): Promise<T> {
    if (this.failing) throw new Error("cannot write the pool: the disk is full");
    return super.transact(fn, options);
  }
}
