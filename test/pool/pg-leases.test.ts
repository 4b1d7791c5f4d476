/**
 * Session leases across machines on a real PostgreSQL (docs/team-pool.md "Session leases"), with
 * separate OS processes on separate pool homes standing in for machines: each runs the real
 * supervisor runner, selection and lease (src/bench/session-worker.ts) with a stand-in codex.
 * - a machine stopped past its lease loses its account to another; resumed, it learns it lost the
 *   lease and moves at its next turn boundary; `list` shows the lapsed lease meanwhile;
 * - a codex holding an account's refresh token (relaunch mode) bars every other machine from
 *   refreshing it, checked right before the send; live mode's sessions bar nothing;
 * - the pool-exhausted countdown wakes when another machine stores room;
 * - a machine stopped inside the pool's transaction holds the pool only briefly.
 * Run `npm run build` first (the workers and the CLI run the built code).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TokenRefresher } from "../../src/auth/refresher.js";
import { sharedStore, seedDue } from "../../src/bench/pg-machines.js";
import { SessionMachine, type SessionWorkerOptions } from "../../src/bench/session-machines.js";
import { poolPaths } from "../../src/platform/paths.js";
import { upsertAccount } from "../../src/pool/accounts.js";
import { RefreshTokenHeldError } from "../../src/pool/live-sessions.js";
import { sql } from "../../src/pool/pg/client.js";
import { PgRefreshCoordinator } from "../../src/pool/pg/pg-refresh.js";
import type { PgPoolStore } from "../../src/pool/pg/pg-store.js";
import type { Pool, QuotaSnapshot } from "../../src/pool/schema.js";
import type { PoolStore } from "../../src/pool/store.js";
import { makeWindow } from "../../src/quota/windows.js";
import { LiveSessionRecord } from "../../src/supervisor/live-sessions.js";
import { startSimulator, type Simulator } from "../../src/simulator/index.js";
import { systemClock } from "../../src/platform/clock.js";
import { runCli } from "../helpers/cli.js";
import { clusterForFile, migratedDatabase, newKey } from "../helpers/pg.js";
import { killWorker, startWorker } from "../helpers/pool-worker.js";
import { tempHomes } from "../helpers/tmp.js";

const cluster = await clusterForFile();
let sim: Simulator;

beforeAll(async () => {
  sim = await startSimulator({
    accounts: [{ accountId: "acct-H", email: "hana@example.com" }],
  });
});

afterAll(async () => {
  expect(sim.strayRequests()).toEqual([]);
  await sim.close();
});

/**
 * Leases short enough that a test waits for one to lapse, with a dozen renewals in each so a
 * loaded machine never loses one it holds.
 */
const LEASE: SessionWorkerOptions = { heartbeatMs: 250, ttlMs: 3000 };

interface World extends AsyncDisposable {
  env: Record<string, string>;
  store: PoolStore;
  home(name: string): string;
  cliEnv(name: string): Record<string, string>;
  /** Machines to kill if a test fails half-way. */
  machines: SessionMachine[];
  machine(name: string, options?: Partial<SessionWorkerOptions>): SessionMachine;
}

async function world(): Promise<World> {
  const homes = await tempHomes();
  const env = {
    CODEX_POOL_DATABASE_URL: await migratedDatabase(cluster!),
    CODEX_POOL_DATABASE_KEY: newKey(),
  };
  const store = sharedStore(homes.join("test-home"), env);
  const machines: SessionMachine[] = [];
  return {
    env,
    store,
    machines,
    home: (name) => homes.join(name),
    cliEnv: (name) => ({
      ...homes.env,
      ...env,
      CODEX_POOL_HOME: homes.join(name),
      CODEX_POOL_AUTH_URL: sim.authUrl,
    }),
    machine(name, options = {}) {
      const m = new SessionMachine(homes.join(name), env, { ...LEASE, host: name, ...options });
      machines.push(m);
      return m;
    },
    async [Symbol.asyncDispose]() {
      for (const m of machines) {
        m.child.kill("SIGCONT");
        await m.kill();
      }
      await store.close();
      await homes[Symbol.asyncDispose]();
    },
  };
}

function snapshot(usedPercent: number): QuotaSnapshot {
  const now = Date.now();
  return {
    observedAt: new Date(now).toISOString(),
    source: "usage-api",
    plan: "plus",
    windows: [makeWindow(300, usedPercent, new Date(now + 3600_000))],
    limitReached: usedPercent >= 100,
  };
}

/** Accounts #1 and #2 with these percents used (the fewer used, the earlier chosen). */
async function seed(store: PoolStore, used: [number, number]): Promise<[string, string]> {
  const ids = await store.transact((pool: Pool) =>
    used.map((u, i) => {
      const n = i + 1;
      const { account } = upsertAccount(
        pool,
        {
          accountId: `acct-${n}`,
          email: `user${n}@example.com`,
          plan: "plus",
          tokens: {
            accessToken: `at-${n}`,
            refreshToken: `rt-${n}`,
            idToken: "",
            accessTokenExpiresAt: new Date(Date.now() + 3600_000).toISOString(),
            lastRefreshAt: null,
          },
        },
        new Date(),
      );
      account.quota = snapshot(u);
      return account.id;
    }),
  );
  return [ids[0]!, ids[1]!];
}

/** Resolves once no lease of `host` is current by the database clock. */
async function lapsed(store: PoolStore, host: string): Promise<void> {
  const pg = store as PgPoolStore;
  const { db } = await pg.ready();
  for (;;) {
    const [row] = await db.rows<{ n: number }>(sql`
      select count(*)::int as n from codex_pool.sessions
       where host = ${host} and expires_at > clock_timestamp()`);
    if (row?.n === 0) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe.skipIf(cluster === null)("session leases across machines on PostgreSQL", () => {
  it("a machine stopped past its lease loses the account to another; resumed, it learns so and moves at its next turn boundary", async () => {
    await using w = await world();
    const [a, b] = await seed(w.store, [0, 50]);
    const m1 = w.machine("machine-1");
    expect(await m1.line("start ")).toBe(`start ${a}`);
    m1.send("bind s-machine-1");
    m1.send("turn-start");
    await m1.line(`leased ${a} running`);
    const listed = await runCli(["list", "--json"], { env: w.cliEnv("m-cli") });
    expect(JSON.parse(listed.stdout).accounts[0].sessions).toEqual([
      expect.objectContaining({ host: "machine-1", pid: m1.pid, lease: "current" }),
    ]);

    // Stopped between two of its transactions (right after a renewal), as a sleeping machine is.
    m1.send("stop");
    await m1.line("stopped");
    await lapsed(w.store, "machine-1");
    // Not pruned until someone writes: `list` shows the lease as lapsed.
    const table = await runCli(["list"], { env: w.cliEnv("m-cli") });
    expect(table.stdout).toMatch(/IN USE ON[\s\S]*machine-1 \(lease lapsed \d+s ago\)/);

    // Machine 2 starts: A is free again, and the best.
    const m2 = w.machine("machine-2");
    expect(await m2.line("start ")).toBe(`start ${a}`);
    m2.send("bind s-machine-2");
    await m2.line(`leased ${a} running`);

    m1.child.kill("SIGCONT");
    expect(await m1.line("lost ")).toBe(`lost ${a} by machine-2 (pid ${m2.pid})`);
    // (A renewal stopped half-way may have failed first: that is said too, as its own notice.)
    expect(await m1.line("notice #1")).toBe(
      `notice #1 user1@… is now used by machine-2 (pid ${m2.pid}): this session's lease on it lapsed while it was silent; moving to another account at the next turn boundary`,
    );
    // Its turn is still running: nothing moves before it ends.
    expect(m1.lines().filter((l) => l.startsWith("move ") || l.startsWith("switch "))).toEqual([]);
    m1.send("turn-end");
    expect(await m1.line("move ")).toBe(`move ${a} ${b}`);
    expect(m1.lines()).toContain(`switch ${a} ${b} lease`);
    await m1.line(`leased ${b} running`);
    const sessions = (await w.store.read()).sessions.map((s) => [s.host, s.account]).sort();
    expect(sessions).toEqual([
      ["machine-1", b],
      ["machine-2", a],
    ]);
    // Machine 2 was never disturbed.
    expect(m2.lines().filter((l) => !l.startsWith("leased "))).toEqual([`start ${a}`]);
    expect(await m1.quit()).toBe("done 0");
    expect(await m2.quit()).toBe("done 0");
    expect((await w.store.read()).sessions).toEqual([]);
  }, 90_000);

  it("a codex holding an account's refresh token on machine 1 bars machine 2's refresh of it; status says so; live mode bars nothing", async () => {
    await using w = await world();
    const id = await seedDue(w.store, sim, "acct-H");
    const before = sim.refreshCount("acct-H");
    const refresher = new TokenRefresher({
      store: w.store,
      leasesDir: poolPaths(w.home("test-home")).leasesDir,
      authUrl: sim.authUrl,
      skewSeconds: 60,
      fetch: globalThis.fetch,
    });
    const m1 = w.machine("machine-1");
    expect(await m1.line("start ")).toBe(`start ${id}`);
    const refused = refresher.ensureFresh(id);
    await expect(refused).rejects.toBeInstanceOf(RefreshTokenHeldError);
    await expect(refused).rejects.toThrow(
      `the refresh token of #1 hana@… is held by the codex of a running session (machine-1 (pid ${m1.pid}))`,
    );
    const status = await runCli(["status", "--refresh"], { env: w.cliEnv("m-cli") });
    expect(status.code).toBe(0);
    expect(status.stdout).toContain(
      "1 hana@example.com not checked: its refresh token belongs to the codex of a running session",
    );
    expect(status.stdout).toMatch(/IN USE ON[\s\S]*machine-1/);
    expect(sim.refreshCount("acct-H")).toBe(before);
    // Its session ends: the tokens are the pool's again.
    expect(await m1.quit()).toBe("done 0");
    await refresher.ensureFresh(id);
    expect(sim.refreshCount("acct-H")).toBe(before + 1);
    // Live mode never hands codex a refresh token: the pool refreshes while it runs.
    const live = w.machine("machine-3", { mode: "live" });
    expect(await live.line("start ")).toBe(`start ${id}`);
    await w.store.transact((pool) => {
      for (const a of pool.accounts) {
        a.tokens.accessTokenExpiresAt = new Date(Date.now() - 1000).toISOString();
      }
    });
    await refresher.ensureFresh(id);
    expect(sim.refreshCount("acct-H")).toBe(before + 2);
    expect(await live.quit()).toBe("done 0");
  }, 90_000);

  it("the refresh-token rule is checked under the claim right before the send: a session that starts holding it meanwhile stops the spend", async () => {
    await using w = await world();
    const id = await seedDue(w.store, sim, "acct-H");
    const before = sim.refreshCount("acct-H");
    const machine3 = sharedStore(w.home("m3"), w.env);
    const other = new LiveSessionRecord({
      store: machine3,
      clock: systemClock,
      me: { pid: 4242, host: "machine-3" },
    });
    let started = false;
    const coordinator = new PgRefreshCoordinator({
      store: w.store as PgPoolStore,
      onStep: async (step) => {
        // Claimed and re-read: now (once) machine 3's codex starts on the account.
        if (step !== "reread" || started) return;
        started = true;
        await other.set({ account: id, sessionId: null, phase: "running" });
      },
    });
    const refresher = new TokenRefresher({
      store: w.store,
      leasesDir: poolPaths(w.home("test-home")).leasesDir,
      authUrl: sim.authUrl,
      skewSeconds: 60,
      fetch: globalThis.fetch,
      coordinator,
    });
    try {
      await expect(refresher.ensureFresh(id)).rejects.toThrow(/machine-3 \(pid 4242\)/);
      expect(sim.refreshCount("acct-H")).toBe(before);
      // The claim was given back: once machine 3 is gone, the refresh goes through once.
      await other.close();
      await refresher.ensureFresh(id);
      expect(sim.refreshCount("acct-H")).toBe(before + 1);
    } finally {
      await other.close();
      await machine3.close();
    }
  }, 60_000);

  it("every account out: the countdown ends as soon as another machine stores room", async () => {
    await using w = await world();
    const [, b] = await seed(w.store, [100, 100]);
    const m1 = w.machine("machine-1");
    await m1.line("countdown");
    expect(m1.lines().filter((l) => l.startsWith("start "))).toEqual([]);
    // Machine 2 observed B's window reset early.
    await w.store.transact((pool) => {
      const row = pool.accounts.find((x) => x.id === b);
      if (row) row.quota = snapshot(20);
    });
    // The reset is an hour away: only the change can have started it.
    expect(await m1.line("start ")).toBe(`start ${b}`);
    expect(await m1.quit()).toBe("done 0");
  }, 60_000);

  it("a machine stopped inside the pool's transaction holds the pool only briefly, commits nothing, and lives on to say so", async () => {
    await using w = await world();
    const [a] = await seed(w.store, [0, 0]);
    const stopped = startWorker(["stop-in-tx", w.home("m1"), a], {
      ...w.env,
      CODEX_POOL_LOCK_WAIT_MS: "2000",
    });
    try {
      await stopped.waitFor("stopping");
      // Our own write waits for the pool lock, which the server takes back from the stopped one.
      await w.store.transact((pool) => {
        const row = pool.accounts.find((x) => x.id === a);
        if (row) row.label = "written-meanwhile";
      });
      stopped.child.kill("SIGCONT");
      // Resumed, it finds the connection the server ended: its transaction fails, saying so, and
      // the process goes on (docs/team-pool.md "The client": no crash on a dead connection).
      const done = await stopped.exited;
      expect(done.stdout).toMatch(
        /failed: the connection to the pool database at \S+ was lost during a transaction \(.+\): nothing of it was stored/,
      );
      expect(done).toMatchObject({ code: 0, signal: null });
      const row = (await w.store.read()).accounts.find((x) => x.id === a);
      expect(row?.label).toBe("written-meanwhile");
    } finally {
      stopped.child.kill("SIGCONT");
      await killWorker(stopped);
    }
  }, 60_000);
});
