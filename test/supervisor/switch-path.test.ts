/**
 * The switch's critical path (src/supervisor/choose.ts, live-sessions.ts), against a real pool
 * file: a check of an account made moments ago (a prewarm's) serves the switch instead of a second
 * one, the switch's claim stores that check in its own transaction, the launch can be prepared
 * while the claim runs, and our live entry recorded by the claim is not written again.
 */
import { describe, expect, it } from "vitest";
import type { Clock } from "../../src/platform/clock.js";
import { poolPaths } from "../../src/platform/paths.js";
import type { Account, QuotaSnapshot } from "../../src/pool/schema.js";
import { FilePoolStore } from "../../src/pool/file-store.js";
import type { PoolStore } from "../../src/pool/store.js";
import type { ProbeOutcome } from "../../src/quota/probe-account.js";
import { makeWindow } from "../../src/quota/windows.js";
import {
  PROBE_REUSE_MS,
  chooseAccount,
  reuseRecentProbes,
  type ChooseDeps,
} from "../../src/supervisor/choose.js";
import { LiveSessionRecord, type SessionIdentity } from "../../src/supervisor/live-sessions.js";
import { tempDir } from "../helpers/tmp.js";
import { clockAt, VirtualClock } from "../helpers/virtual-clock.js";
import { accountWithId } from "../helpers/account-fixture.js";

const NOW = Date.parse("2026-06-01T12:00:00Z");
const ME: SessionIdentity = { pid: 1000, host: "here" };
const never = new AbortController().signal;

function snapshot(usedPercent: number, limitReached = false): QuotaSnapshot {
  return {
    observedAt: new Date(NOW).toISOString(),
    source: "usage-api",
    plan: "plus",
    windows: [makeWindow(300, usedPercent, new Date(NOW + 3600_000))],
    limitReached,
  };
}

/** Never checked: a selection must check it. */
function account(id: string): Account {
  return accountWithId(id, NOW);
}

/** A store that counts its transactions. */
class CountingStore extends FilePoolStore {
  transactions = 0;
  override transact<T>(...args: Parameters<PoolStore["transact"]>): Promise<T> {
    this.transactions += 1;
    return super.transact(...args) as Promise<T>;
  }
}

describe("reuseRecentProbes", () => {
  const row = account("acc_bbbbbb");

  it("shares a running check and a just-finished good one; asks again once it is old", async () => {
    let now = NOW;
    const clock: Clock = clockAt(() => now);
    let calls = 0;
    let answer!: (o: ProbeOutcome) => void;
    const probe = reuseRecentProbes(() => {
      calls += 1;
      return new Promise<ProbeOutcome>((resolve) => (answer = resolve));
    }, clock);
    const first = probe(row, false, never);
    const second = probe(row, false, never); // while the first runs
    answer({ kind: "ok", snapshot: snapshot(10) });
    expect(await second).toBe(await first);
    now += PROBE_REUSE_MS; // measured from the answer, not the question
    const third = probe(row, false, never);
    expect(await third).toBe(await first);
    expect(calls).toBe(1);
    now += 1;
    const fourth = probe(row, false, never);
    answer({ kind: "ok", snapshot: snapshot(20) });
    expect(await fourth).not.toBe(await first);
    expect(calls).toBe(2);
  });

  it("never keeps a failure, and `fresh` always asks", async () => {
    const clock: Clock = clockAt(() => NOW);
    const outcomes: ProbeOutcome[] = [
      { kind: "failed", error: { at: "", kind: "network", message: "down" } },
      { kind: "ok", snapshot: snapshot(10) },
      { kind: "ok", snapshot: snapshot(30) },
    ];
    let calls = 0;
    const probe = reuseRecentProbes(() => Promise.resolve(outcomes[calls++]!), clock);
    expect((await probe(row, false, never)).kind).toBe("failed");
    expect((await probe(row, false, never)).kind).toBe("ok");
    const fresh = await probe(row, false, never, true);
    expect(fresh).toEqual({ kind: "ok", snapshot: snapshot(30) });
    expect(calls).toBe(3);
  });
});

describe("a switch's selection", () => {
  it("reuses the prewarm's check, stores it with the claim, and offers the launch early", async () => {
    await using dir = await tempDir();
    const store = new CountingStore({
      paths: poolPaths(dir.path),
      lockWaitMs: 5_000,
      lockStaleMs: 30_000,
    });
    await store.transact((pool) => {
      pool.accounts = [account("acc_aaaaaa"), account("acc_bbbbbb")];
    });
    const clock: Clock = new VirtualClock(NOW);
    let probes = 0;
    const chosen: string[] = [];
    const deps: ChooseDeps = {
      store,
      clock,
      floors: { fiveHour: 5, weekly: 5 },
      isAlive: () => true,
      live: new LiveSessionRecord({ store, clock, me: ME }),
      pinned: null,
      sessionId: () => "s-1",
      probe: reuseRecentProbes(() => {
        probes += 1;
        return Promise.resolve({ kind: "ok", snapshot: snapshot(40) });
      }, clock),
      chosen: (a) => chosen.push(a.id),
    };
    const request = { exclude: ["acc_aaaaaa"], preferred: null, purpose: "switch" } as const;
    store.transactions = 0;
    const warm = await chooseAccount(deps, request, never, { commit: false });
    expect(warm).toMatchObject({ kind: "selected", account: { id: "acc_bbbbbb" } });
    expect(store.transactions).toBe(0); // a prewarm stores nothing
    expect(chosen).toEqual([]); // nor prepares a launch
    const r = await chooseAccount(deps, request, never);
    expect(r).toMatchObject({ kind: "selected", account: { id: "acc_bbbbbb" } });
    expect(probes).toBe(1);
    expect(store.transactions).toBe(1);
    expect(chosen).toEqual(["acc_bbbbbb"]);
    const pool = await store.read();
    const b = pool.accounts.find((a) => a.id === "acc_bbbbbb");
    expect(b?.quota?.windows[0]?.usedPercent).toBe(40);
    expect(pool.sessions.map((s) => [s.pid, s.account, s.phase])).toEqual([
      [1000, "acc_bbbbbb", "switching"],
    ]);
    // The runner's own record of the same entry costs no second write.
    await deps.live.set({ account: "acc_bbbbbb", sessionId: "s-1", phase: "switching" });
    expect(store.transactions).toBe(1);
    await deps.live.set({ account: "acc_bbbbbb", sessionId: "s-1", phase: "running" });
    expect(store.transactions).toBe(2);
    await deps.live.close();
  });

  it("a live session's claim is not written again when the runner records it with its mode", async () => {
    await using dir = await tempDir();
    const store = new CountingStore({
      paths: poolPaths(dir.path),
      lockWaitMs: 5_000,
      lockStaleMs: 30_000,
    });
    await store.transact((pool) => {
      pool.accounts = [account("acc_aaaaaa"), account("acc_bbbbbb")];
    });
    const clock: Clock = new VirtualClock(NOW);
    const live = new LiveSessionRecord({ store, clock, me: ME });
    live.mode = "live";
    const deps: ChooseDeps = {
      store,
      clock,
      floors: { fiveHour: 5, weekly: 5 },
      isAlive: () => true,
      live,
      pinned: null,
      sessionId: () => "s-1",
      probe: () => Promise.resolve({ kind: "ok", snapshot: snapshot(40) }),
    };
    store.transactions = 0;
    const r = await chooseAccount(
      deps,
      { exclude: ["acc_aaaaaa"], preferred: null, purpose: "switch" },
      never,
    );
    expect(r).toMatchObject({ kind: "selected", account: { id: "acc_bbbbbb" } });
    expect(store.transactions).toBe(1);
    expect((await store.read()).sessions[0]?.holdsRefreshToken).toBe(false);
    // The runner publishes what the claim wrote, naming the mode: no second transaction.
    await live.set({ account: "acc_bbbbbb", sessionId: "s-1", phase: "switching", mode: "live" });
    expect(store.transactions).toBe(1);
    await live.close();
  });

  it("a fresh check that finds the account out moves on without claiming it", async () => {
    await using dir = await tempDir();
    const store = new FilePoolStore({
      paths: poolPaths(dir.path),
      lockWaitMs: 5_000,
      lockStaleMs: 30_000,
    });
    await store.transact((pool) => {
      pool.accounts = [account("acc_aaaaaa"), account("acc_bbbbbb"), account("acc_cccccc")];
    });
    const clock: Clock = clockAt(() => NOW);
    const deps: ChooseDeps = {
      store,
      clock,
      floors: { fiveHour: 5, weekly: 5 },
      isAlive: () => true,
      live: new LiveSessionRecord({ store, clock, me: ME }),
      pinned: null,
      sessionId: () => "s-1",
      probe: (a) =>
        Promise.resolve({
          kind: "ok",
          snapshot: a.id === "acc_bbbbbb" ? snapshot(100, true) : snapshot(50),
        }),
    };
    const r = await chooseAccount(
      deps,
      { exclude: ["acc_aaaaaa"], preferred: null, purpose: "switch" },
      never,
    );
    expect(r).toMatchObject({ kind: "selected", account: { id: "acc_cccccc" } });
    const pool = await store.read();
    expect(pool.accounts.find((a) => a.id === "acc_bbbbbb")?.quota?.limitReached).toBe(true);
    expect(pool.accounts.find((a) => a.id === "acc_bbbbbb")?.lastUsedAt).toBeNull();
  });
});
