/**
 * Choosing an account for a launch or a switch (src/supervisor/choose.ts), against a real pool file
 * and a scripted probe, without processes: busy accounts are avoided while a free one is usable,
 * a claim re-checks the pool, a pin is honoured, fresh snapshots are not probed again, and an
 * exhausted pool reports its resets.
 */
import { describe, expect, it } from "vitest";
import type { Clock } from "../../src/platform/clock.js";
import { poolPaths } from "../../src/platform/paths.js";
import type { Account, LiveSession, Pool, QuotaSnapshot } from "../../src/pool/schema.js";
import { FilePoolStore } from "../../src/pool/file-store.js";
import type { PoolStore } from "../../src/pool/store.js";
import type { ProbeOutcome } from "../../src/quota/probe-account.js";
import { makeWindow } from "../../src/quota/windows.js";
import { chooseAccount, type ChooseDeps } from "../../src/supervisor/choose.js";
import { LiveSessionRecord, type SessionIdentity } from "../../src/supervisor/live-sessions.js";
import { tempDir } from "../helpers/tmp.js";
import { clockAt } from "../helpers/virtual-clock.js";
import { accountWithId } from "../helpers/account-fixture.js";

const NOW = Date.parse("2026-06-01T12:00:00Z");
const clock: Clock = clockAt(() => NOW);
const ME: SessionIdentity = { pid: 1000, host: "here" };
const OTHER: SessionIdentity = { pid: 2000, host: "here" };
const iso = (ms: number): string => new Date(ms).toISOString();

function snapshot(usedPercent: number, ageMs = 0, limitReached = false): QuotaSnapshot {
  return {
    observedAt: iso(NOW - ageMs),
    source: "usage-api",
    plan: "plus",
    windows: [makeWindow(300, usedPercent, new Date(NOW + 3600_000))],
    limitReached,
  };
}

function account(id: string, quota: QuotaSnapshot | null): Account {
  return accountWithId(id, NOW, { quota });
}

function live(who: SessionIdentity, accountId: string, heartbeatAgeMs = 0): LiveSession {
  return {
    pid: who.pid,
    host: who.host,
    account: accountId,
    sessionId: `s-${who.pid}`,
    phase: "running",
    startedAt: iso(NOW - 60_000),
    heartbeatAt: iso(NOW - heartbeatAgeMs),
  };
}

interface Setup extends AsyncDisposable {
  store: PoolStore;
  deps: ChooseDeps;
  probed: string[];
}

async function setup(
  accounts: Account[],
  sessions: LiveSession[],
  options: {
    pinned?: string;
    alive?: (pid: number) => boolean;
    probe?: (a: Account, store: PoolStore) => Promise<ProbeOutcome>;
  } = {},
): Promise<Setup> {
  const dir = await tempDir();
  const store = new FilePoolStore({
    paths: poolPaths(dir.path),
    lockWaitMs: 5000,
    lockStaleMs: 30_000,
  });
  await store.transact((pool) => {
    pool.accounts = accounts;
    pool.sessions = sessions;
  });
  const isAlive = (pid: number): boolean => options.alive?.(pid) ?? true;
  const probed: string[] = [];
  const deps: ChooseDeps = {
    store,
    clock,
    floors: { fiveHour: 5, weekly: 5 },
    isAlive,
    live: new LiveSessionRecord({ store, clock, me: ME, isAlive }),
    pinned: options.pinned ?? null,
    sessionId: () => "s-1000",
    probe: async (a) => {
      probed.push(a.id);
      return (await options.probe?.(a, store)) ?? { kind: "ok", snapshot: snapshot(10) };
    },
  };
  return {
    store,
    deps,
    probed,
    [Symbol.asyncDispose]: () => dir[Symbol.asyncDispose](),
  };
}

const never = new AbortController().signal;
const start = { exclude: [], preferred: null, purpose: "start" } as const;

describe("chooseAccount", () => {
  it("avoids an account another live session runs on while a free one is usable", async () => {
    await using s = await setup(
      [account("acc_aaaaaa", snapshot(0)), account("acc_bbbbbb", snapshot(50))],
      [live(OTHER, "acc_aaaaaa")],
    );
    const r = await chooseAccount(s.deps, start, never);
    expect(r).toMatchObject({ kind: "selected", account: { id: "acc_bbbbbb" } });
    // The claim recorded us on B, next to the other session on A.
    const pool = await s.store.read();
    expect(pool.sessions.map((x) => [x.pid, x.account]).sort()).toEqual([
      [1000, "acc_bbbbbb"],
      [2000, "acc_aaaaaa"],
    ]);
    expect(pool.accounts.find((a) => a.id === "acc_bbbbbb")?.lastUsedAt).toBe(iso(NOW));
  });

  it("shares a busy account when it is the only usable one", async () => {
    await using s = await setup(
      [account("acc_aaaaaa", snapshot(0)), account("acc_bbbbbb", snapshot(100, 0, true))],
      [live(OTHER, "acc_aaaaaa")],
    );
    const r = await chooseAccount(s.deps, start, never);
    expect(r).toMatchObject({ kind: "selected", account: { id: "acc_aaaaaa" } });
  });

  it("a dead session's or a stale heartbeat's account counts as free, and is pruned", async () => {
    const dead: SessionIdentity = { pid: 3000, host: "here" };
    await using s = await setup(
      [account("acc_aaaaaa", snapshot(0)), account("acc_bbbbbb", snapshot(50))],
      [live(dead, "acc_aaaaaa"), live(OTHER, "acc_aaaaaa", 10 * 60_000)],
      { alive: (pid) => pid !== dead.pid },
    );
    const r = await chooseAccount(s.deps, start, never);
    expect(r).toMatchObject({ kind: "selected", account: { id: "acc_aaaaaa" } });
    expect((await s.store.read()).sessions.map((x) => x.pid)).toEqual([1000]);
  });

  it("a pinned account is chosen even while another session runs on it", async () => {
    await using s = await setup(
      [account("acc_aaaaaa", snapshot(0)), account("acc_bbbbbb", snapshot(0))],
      [live(OTHER, "acc_bbbbbb")],
      { pinned: "acc_bbbbbb" },
    );
    const r = await chooseAccount(s.deps, start, never);
    expect(r).toMatchObject({ kind: "selected", account: { id: "acc_bbbbbb" } });
  });

  it("an account another session claimed while we probed is given up for a free one", async () => {
    await using s = await setup(
      [account("acc_aaaaaa", snapshot(0, 5 * 60_000)), account("acc_bbbbbb", snapshot(50))],
      [],
      {
        probe: async (a, store) => {
          // While we check A, another session claims it.
          if (a.id === "acc_aaaaaa") {
            await store.transact((pool) => {
              pool.sessions.push(live(OTHER, "acc_aaaaaa"));
            });
          }
          return { kind: "ok", snapshot: snapshot(0) };
        },
      },
    );
    const r = await chooseAccount(s.deps, start, never);
    expect(s.probed[0]).toBe("acc_aaaaaa");
    expect(r).toMatchObject({ kind: "selected", account: { id: "acc_bbbbbb" } });
  });

  it("a pin survives another session claiming the account while we probed", async () => {
    await using s = await setup(
      [account("acc_aaaaaa", snapshot(0, 5 * 60_000)), account("acc_bbbbbb", snapshot(0))],
      [],
      {
        pinned: "acc_aaaaaa",
        probe: async (_a, store) => {
          await store.transact((pool) => {
            pool.sessions.push(live(OTHER, "acc_aaaaaa"));
          });
          return { kind: "ok", snapshot: snapshot(20) };
        },
      },
    );
    const r = await chooseAccount(s.deps, start, never);
    expect(s.probed).toEqual(["acc_aaaaaa"]);
    expect(r).toMatchObject({ kind: "selected", account: { id: "acc_aaaaaa" } });
  });

  it("probes a stale snapshot, not a fresh one, and re-ranks on what the probe found", async () => {
    await using s = await setup(
      [account("acc_aaaaaa", snapshot(0, 5 * 60_000)), account("acc_bbbbbb", snapshot(30))],
      [],
      // A's fresh look: out.
      { probe: () => Promise.resolve({ kind: "ok", snapshot: snapshot(100, 0, true) }) },
    );
    const r = await chooseAccount(s.deps, start, never);
    expect(s.probed).toEqual(["acc_aaaaaa"]);
    expect(r).toMatchObject({ kind: "selected", account: { id: "acc_bbbbbb" } });
    const a = (await s.store.read()).accounts.find((x) => x.id === "acc_aaaaaa");
    expect(a?.quota?.limitReached).toBe(true);
  });

  it("exhausted: every account out reports each reset and the earliest", async () => {
    const soon = NOW + 60_000;
    const out = (resetAt: number): QuotaSnapshot => ({
      ...snapshot(100, 0, true),
      windows: [makeWindow(300, 100, new Date(resetAt))],
    });
    await using s = await setup(
      [account("acc_aaaaaa", out(soon + 60_000)), account("acc_bbbbbb", out(soon))],
      [],
    );
    const r = await chooseAccount(s.deps, { ...start, purpose: "switch" }, never);
    expect(r.kind).toBe("exhausted");
    if (r.kind !== "exhausted") return;
    expect(r.exhaustion.earliest).toBe(soon);
    expect(r.exhaustion.resets.map((x) => [x.account.id, x.resetsAt])).toEqual([
      ["acc_aaaaaa", soon + 60_000],
      ["acc_bbbbbb", soon],
    ]);
    expect(s.probed).toEqual([]);
  });

  it("the account left behind is excluded from a switch", async () => {
    await using s = await setup(
      [account("acc_aaaaaa", snapshot(0)), account("acc_bbbbbb", snapshot(90))],
      [],
    );
    const r = await chooseAccount(
      s.deps,
      { exclude: ["acc_aaaaaa"], preferred: null, purpose: "switch" },
      never,
    );
    expect(r).toMatchObject({ kind: "selected", account: { id: "acc_bbbbbb" } });
  });

  it("a prewarm (no commit) records nothing", async () => {
    await using s = await setup([account("acc_aaaaaa", snapshot(0))], []);
    const r = await chooseAccount(s.deps, start, never, { commit: false });
    expect(r.kind).toBe("selected");
    expect((await s.store.read()).sessions).toEqual([]);
  });

  it("after a wait, a fresh snapshot is checked again once before it is trusted", async () => {
    await using s = await setup(
      // Both look usable on paper; the checks say A is still out.
      [account("acc_aaaaaa", snapshot(0)), account("acc_bbbbbb", snapshot(20))],
      [],
      {
        probe: (a) =>
          Promise.resolve({
            kind: "ok",
            snapshot: a.id === "acc_aaaaaa" ? snapshot(100, 0, true) : snapshot(20),
          }),
      },
    );
    const r = await chooseAccount(s.deps, { ...start, purpose: "after-wait" }, never);
    expect(s.probed).toEqual(["acc_aaaaaa", "acc_bbbbbb"]);
    expect(r).toMatchObject({ kind: "selected", account: { id: "acc_bbbbbb" } });
  });

  it("a switch names its leader before checking it, and hands over the pool its claim left", async () => {
    const old = 60_000; // older than FRESH_QUOTA_MS: each leader is checked
    await using s = await setup(
      [
        account("acc_aaaaaa", snapshot(100, 0, true)),
        account("acc_bbbbbb", snapshot(0, old)),
        account("acc_cccccc", snapshot(20, old)),
      ],
      [],
      // The check finds B out: C takes its place.
      {
        probe: (a) =>
          Promise.resolve({
            kind: "ok",
            snapshot: a.id === "acc_bbbbbb" ? snapshot(100, 0, true) : snapshot(30),
          }),
      },
    );
    const seen: string[] = [];
    let committed: Pool | null = null;
    const deps: ChooseDeps = {
      ...s.deps,
      // Named as every message names an account (what a live login ahead shows the user).
      chosen: (a, _owned, ref) => seen.push(`chosen ${a.id} ${ref.label}`),
      claimed: (pool) => {
        committed = pool;
      },
      probe: (a, owned, signal) => {
        seen.push(`probe ${a.id}`);
        return s.deps.probe(a, owned, signal);
      },
    };
    const switching = { exclude: ["acc_aaaaaa"], preferred: null, purpose: "switch" } as const;
    const r = await chooseAccount(deps, switching, never);
    expect(r).toMatchObject({ kind: "selected", account: { id: "acc_cccccc" } });
    expect(seen).toEqual([
      "chosen acc_bbbbbb #2 bbbbbb@…",
      "probe acc_bbbbbb",
      "chosen acc_cccccc #3 cccccc@…",
      "probe acc_cccccc",
    ]);
    // The pool as committed: our claim of C, with what its check found.
    expect(committed).toEqual(await s.store.read());
    const c = (await s.store.read()).accounts.find((a) => a.id === "acc_cccccc");
    expect(c?.quota?.windows[0]?.usedPercent).toBe(30);
  });

  it("a prewarm or a first launch prepares nothing and hands over no pool", async () => {
    await using s = await setup([account("acc_aaaaaa", snapshot(0))], []);
    const calls: string[] = [];
    const deps: ChooseDeps = {
      ...s.deps,
      chosen: (a) => calls.push(a.id),
      claimed: () => calls.push("claimed"),
    };
    const switching = { exclude: [], preferred: null, purpose: "switch" } as const;
    await chooseAccount(deps, switching, never, { commit: false });
    await chooseAccount(deps, start, never);
    expect(calls).toEqual([]);
  });

  it("a first launch probes every unknown or stale account at once, then chooses", async () => {
    // A: checked a moment ago, 20 % left. B: never checked (it has 90 % left). C: an old check.
    // D: owned by another live session (probed with the token in hand). E: needs a login.
    const e = account("acc_eeeeee", null);
    e.state = { kind: "needs-login", reason: "refresh_token_reused", since: iso(NOW) };
    await using s = await setup(
      [
        account("acc_aaaaaa", snapshot(80, 1000)),
        account("acc_bbbbbb", null),
        account("acc_cccccc", snapshot(50, 3600_000)),
        account("acc_dddddd", null),
        e,
      ],
      [live(OTHER, "acc_dddddd")],
      {
        probe: (a) => {
          const used = { acc_bbbbbb: 10, acc_cccccc: 60, acc_dddddd: 5 }[a.id] ?? 99;
          return Promise.resolve({ kind: "ok", snapshot: snapshot(used) });
        },
      },
    );
    let inFlight = 0;
    let most = 0;
    const owned: string[] = [];
    const deps: ChooseDeps = {
      ...s.deps,
      probeRound: { maxAgeMs: 60_000, concurrency: 8, timeoutMs: 5000 },
      probe: async (a, codexOwned, signal, fresh) => {
        inFlight += 1;
        most = Math.max(most, inFlight);
        if (codexOwned) owned.push(a.id);
        // Every probe of the round is in flight before any answers: they run concurrently.
        await new Promise((r) => setImmediate(r));
        const out = await s.deps.probe(a, codexOwned, signal, fresh);
        inFlight -= 1;
        return out;
      },
    };
    const r = await chooseAccount(deps, start, never);
    expect(r).toMatchObject({ kind: "selected", account: { id: "acc_bbbbbb" } });
    expect([...s.probed].sort()).toEqual(["acc_bbbbbb", "acc_cccccc", "acc_dddddd"]);
    expect(most).toBe(3);
    expect(owned).toEqual(["acc_dddddd"]);
    const pool = await s.store.read();
    expect(pool.accounts.map((a) => a.quota?.windows[0]?.usedPercent ?? null)).toEqual([
      80,
      10,
      60,
      5,
      null,
    ]);
  });

  it("probes with the token in hand only where a live codex holds the refresh token (relaunch), not where it never does (live mode)", async () => {
    const THIRD: SessionIdentity = { pid: 3000, host: "host-b" };
    await using s = await setup(
      [account("acc_aaaaaa", null), account("acc_bbbbbb", null), account("acc_cccccc", null)],
      [
        { ...live(OTHER, "acc_aaaaaa"), holdsRefreshToken: false },
        { ...live(THIRD, "acc_bbbbbb"), holdsRefreshToken: true },
      ],
    );
    const owned: string[] = [];
    const deps: ChooseDeps = {
      ...s.deps,
      probeRound: { maxAgeMs: 60_000, concurrency: 8, timeoutMs: 5000 },
      probe: (a, codexOwned, signal, fresh) => {
        if (codexOwned) owned.push(a.id);
        return s.deps.probe(a, codexOwned, signal, fresh);
      },
    };
    const r = await chooseAccount(deps, start, never);
    // Both busy accounts rank after the free one, whoever holds their refresh token.
    expect(r).toMatchObject({ kind: "selected", account: { id: "acc_cccccc" } });
    expect([...s.probed].sort()).toEqual(["acc_aaaaaa", "acc_bbbbbb", "acc_cccccc"]);
    expect(owned).toEqual(["acc_bbbbbb"]);
  });

  it("a switch does no probe round: the never-checked account is not looked at", async () => {
    await using s = await setup(
      [account("acc_aaaaaa", snapshot(80, 1000)), account("acc_bbbbbb", null)],
      [],
    );
    const deps: ChooseDeps = {
      ...s.deps,
      probeRound: { maxAgeMs: 60_000, concurrency: 8, timeoutMs: 5000 },
    };
    const switching = { exclude: [], preferred: null, purpose: "switch" } as const;
    const r = await chooseAccount(deps, switching, never);
    expect(r).toMatchObject({ kind: "selected", account: { id: "acc_aaaaaa" } });
    expect(s.probed).toEqual([]); // A's check is a second old: fresh; B is not probed
  });
});
