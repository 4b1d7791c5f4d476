/**
 * Exactly-once refresh across machines (docs/team-pool.md "Refresh protocol" and its failure
 * table), with real processes on separate pool homes, one real PostgreSQL, and the simulator's
 * token endpoint, which refuses a reused refresh token like the real service. Holders are stopped
 * (SIGSTOP) or killed (SIGKILL) at chosen protocol steps. Run `npm run build` first.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { poolPaths } from "../../src/platform/paths.js";
import { journalDir } from "../../src/pool/pg/journal.js";
import { startSimulator, type Simulator } from "../../src/simulator/index.js";
import type { PoolStore } from "../../src/pool/store.js";
import { runCli } from "../helpers/cli.js";
import { clusterForFile, migratedDatabase, newKey } from "../helpers/pg.js";
import {
  Machine,
  expireAll,
  hashOf,
  reuses,
  seedDue,
  sharedStore,
  type MachineOptions,
} from "../../src/bench/pg-machines.js";
import { tempHomes } from "../helpers/tmp.js";

const cluster = await clusterForFile();
let sim: Simulator;

beforeAll(async () => {
  sim = await startSimulator({
    accounts: ["A", "B", "C", "K", "S", "R", "D", "J", "L"].map((x) => ({
      accountId: `acct-${x}`,
      email: `${x.toLowerCase()}@example.com`,
    })),
  });
});

afterAll(async () => {
  expect(sim.strayRequests()).toEqual([]);
  await sim.close();
});

/**
 * Claims short enough that a test waits for one to expire, long enough that a loaded machine still
 * finishes a loopback refresh inside one (else the honest outcome would be "in doubt").
 */
const FAST: Omit<MachineOptions, "accounts"> = {
  claimTtlMs: 4000,
  sendTimeoutMs: 3000,
  pollMs: 50,
};
/** The storm is about races, not expiry: the default claim. */
const STORM: Omit<MachineOptions, "accounts"> = {
  claimTtlMs: 30_000,
  sendTimeoutMs: 15_000,
  pollMs: 50,
};

async function world(): Promise<{
  env: Record<string, string>;
  store: PoolStore;
  home: (name: string) => string;
  cliEnv: Record<string, string>;
  [Symbol.asyncDispose]: () => Promise<void>;
}> {
  const homes = await tempHomes();
  const env = {
    CODEX_POOL_DATABASE_URL: await migratedDatabase(cluster!),
    CODEX_POOL_DATABASE_KEY: newKey(),
  };
  const store = sharedStore(homes.join("test-home"), env);
  return {
    env,
    store,
    home: (name) => homes.join(name),
    cliEnv: { ...homes.env, ...env, CODEX_POOL_AUTH_URL: sim.authUrl },
    async [Symbol.asyncDispose]() {
      await store.close();
      await homes[Symbol.asyncDispose]();
    },
  };
}

async function currentHash(store: PoolStore, id: string): Promise<string> {
  const row = (await store.read()).accounts.find((a) => a.id === id)!;
  return hashOf(row.tokens.accessToken);
}

describe.skipIf(cluster === null)("refresh across machines on PostgreSQL", () => {
  it("8 machines refreshing the same 3 expired accounts at once: each token is sent once, all end with the newest", async () => {
    await using w = await world();
    const ids = [
      await seedDue(w.store, sim, "acct-A"),
      await seedDue(w.store, sim, "acct-B"),
      await seedDue(w.store, sim, "acct-C"),
    ];
    const machines = Array.from(
      { length: 8 },
      (_, i) => new Machine(w.home(`m${i}`), sim.authUrl, w.env, { accounts: ids, ...STORM }),
    );
    await Promise.all(machines.map((m) => m.waitFor("ready")));
    const reusedBefore = reuses(sim);
    const countsBefore = ["acct-A", "acct-B", "acct-C"].map((a) => sim.refreshCount(a));
    const rounds = 4;
    for (let round = 0; round < rounds; round += 1) {
      if (round > 0) await expireAll(w.store);
      const results = await Promise.all(machines.map((m) => m.go()));
      for (const [i, id] of ids.entries()) {
        const newest = await currentHash(w.store, id);
        for (const perMachine of results) {
          expect(perMachine[i]).toMatchObject({ account: id, ok: true, hash: newest });
        }
      }
    }
    // One refresh per account per round, whatever the race; never a reused token.
    expect(["acct-A", "acct-B", "acct-C"].map((a) => sim.refreshCount(a))).toEqual(
      countsBefore.map((c) => c + rounds),
    );
    expect(reuses(sim)).toBe(reusedBefore);
    await Promise.all(machines.map((m) => m.quit()));
    // The audit names who refreshed, and holds no token.
    const audit = await w.store.read();
    expect(audit.accounts).toHaveLength(3);
  }, 120_000);

  it("kill -9 of the claim holder: another machine takes over once the claim expires, no token reused", async () => {
    await using w = await world();
    const id = await seedDue(w.store, sim, "acct-K");
    const holder = new Machine(w.home("m1"), sim.authUrl, w.env, {
      accounts: [id],
      ...FAST,
      stopAt: "claimed",
    });
    const other = new Machine(w.home("m2"), sim.authUrl, w.env, { accounts: [id], ...FAST });
    await Promise.all([holder.waitFor("ready"), other.waitFor("ready")]);
    const before = sim.refreshCount("acct-K");
    const reusedBefore = reuses(sim);
    void holder.go().catch(() => undefined);
    await holder.waitFor("stopped claimed");
    const taking = other.go();
    await holder.kill();
    const [result] = await taking;
    expect(result).toMatchObject({ ok: true, hash: await currentHash(w.store, id) });
    expect(sim.refreshCount("acct-K")).toBe(before + 1);
    expect(reuses(sim)).toBe(reusedBefore);
    await other.quit();
  }, 60_000);

  it.each(["claimed", "reread"] as const)(
    "SIGSTOP of the holder at %s past its claim: another refreshes; resumed, it neither sends nor commits, and adopts",
    async (step) => {
      await using w = await world();
      const id = await seedDue(w.store, sim, "acct-S");
      const holder = new Machine(w.home("m1"), sim.authUrl, w.env, {
        accounts: [id],
        ...FAST,
        stopAt: step,
      });
      const other = new Machine(w.home("m2"), sim.authUrl, w.env, { accounts: [id], ...FAST });
      await Promise.all([holder.waitFor("ready"), other.waitFor("ready")]);
      const before = sim.refreshCount("acct-S");
      const reusedBefore = reuses(sim);
      const stalled = holder.go();
      await holder.waitFor(`stopped ${step}`);
      const [taken] = await other.go();
      expect(taken).toMatchObject({ ok: true });
      holder.child.kill("SIGCONT");
      const [resumed] = await stalled;
      const newest = await currentHash(w.store, id);
      expect(resumed).toMatchObject({ ok: true, hash: newest });
      expect(taken?.hash).toBe(newest);
      expect(sim.refreshCount("acct-S")).toBe(before + 1);
      expect(reuses(sim)).toBe(reusedBefore);
      await Promise.all([holder.quit(), other.quit()]);
    },
    60_000,
  );

  it("a holder killed after marking intent leaves the account in doubt: nobody spends it again, and list/status/doctor say so", async () => {
    await using w = await world();
    const id = await seedDue(w.store, sim, "acct-D");
    const holder = new Machine(w.home("m1"), sim.authUrl, w.env, {
      accounts: [id],
      ...FAST,
      stopAt: "intent",
    });
    const other = new Machine(w.home("m2"), sim.authUrl, w.env, { accounts: [id], ...FAST });
    await Promise.all([holder.waitFor("ready"), other.waitFor("ready")]);
    const before = sim.refreshCount("acct-D");
    void holder.go().catch(() => undefined);
    await holder.waitFor("stopped intent");
    await holder.kill();
    const [result] = await other.go();
    expect(result).toMatchObject({
      ok: false,
      name: "NeedsLoginError",
      reason: "refresh_in_doubt",
    });
    expect(sim.refreshCount("acct-D")).toBe(before);
    const row = (await w.store.read()).accounts.find((a) => a.id === id)!;
    expect(row.state.kind).toBe("in-doubt");
    // A second attempt is refused at once, without a request.
    const [again] = await other.go();
    expect(again).toMatchObject({ ok: false, reason: "refresh_in_doubt" });
    expect(sim.refreshCount("acct-D")).toBe(before);
    await other.quit();
    const list = await runCli(["list", "--json"], { env: w.cliEnv });
    expect(list.code).toBe(0);
    expect(JSON.parse(list.stdout)).toMatchObject({
      accounts: [{ id, state: "in-doubt" }],
    });
    const doctor = await runCli(["doctor", "--json"], { env: w.cliEnv });
    expect(doctor.stdout).toContain("in doubt");
  }, 60_000);

  it("a holder killed after the service answered: its machine's journal commits the new tokens at the next start", async () => {
    await using w = await world();
    const id = await seedDue(w.store, sim, "acct-J");
    const home = w.home("m1");
    const holder = new Machine(home, sim.authUrl, w.env, {
      accounts: [id],
      ...FAST,
      stopAt: "journaled",
    });
    await holder.waitFor("ready");
    const before = sim.refreshCount("acct-J");
    const reusedBefore = reuses(sim);
    const old = await currentHash(w.store, id);
    void holder.go().catch(() => undefined);
    await holder.waitFor("stopped journaled");
    await holder.kill();
    expect(sim.refreshCount("acct-J")).toBe(before + 1);
    expect(await currentHash(w.store, id)).toBe(old); // not committed yet
    // A damaged entry beside it (a disk that filled up mid-write) is kept, and stops nothing.
    const damaged = path.join(journalDir(poolPaths(home)), "acc_damaged.3.json");
    await fs.writeFile(damaged, '{"account": "acc_dam', { mode: 0o600 });
    const restarted = new Machine(home, sim.authUrl, w.env, { accounts: [id], ...FAST });
    await restarted.waitFor("ready");
    const [result] = await restarted.go();
    const newest = await currentHash(w.store, id);
    expect(newest).not.toBe(old);
    expect(result).toMatchObject({ ok: true, hash: newest });
    // The journal's tokens were the rotated ones: no second refresh, no reuse.
    expect(sim.refreshCount("acct-J")).toBe(before + 1);
    expect(reuses(sim)).toBe(reusedBefore);
    expect(await fs.readFile(damaged, "utf8")).toBe('{"account": "acc_dam');
    await restarted.quit();
  }, 60_000);

  it("a holder stalled after the service answered is marked in doubt, and settles it itself when it resumes", async () => {
    await using w = await world();
    const id = await seedDue(w.store, sim, "acct-L");
    const holder = new Machine(w.home("m1"), sim.authUrl, w.env, {
      accounts: [id],
      ...FAST,
      stopAt: "answered",
    });
    const other = new Machine(w.home("m2"), sim.authUrl, w.env, { accounts: [id], ...FAST });
    await Promise.all([holder.waitFor("ready"), other.waitFor("ready")]);
    const before = sim.refreshCount("acct-L");
    const reusedBefore = reuses(sim);
    const stalled = holder.go();
    await holder.waitFor("stopped answered");
    const [waiting] = await other.go();
    expect(waiting).toMatchObject({ ok: false, reason: "refresh_in_doubt" });
    holder.child.kill("SIGCONT");
    const [resumed] = await stalled;
    const row = (await w.store.read()).accounts.find((a) => a.id === id)!;
    expect(row.state).toEqual({ kind: "ok" });
    expect(resumed).toMatchObject({ ok: true, hash: hashOf(row.tokens.accessToken) });
    expect(sim.refreshCount("acct-L")).toBe(before + 1);
    expect(reuses(sim)).toBe(reusedBefore);
    await Promise.all([holder.quit(), other.quit()]);
  }, 60_000);
});
