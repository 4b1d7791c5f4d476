/**
 * The shared pool (docs/decisions.md "Shared pool"; docs/team-pool.md): a throwaway PostgreSQL server,
 * the simulator's token endpoint (which refuses a reused refresh token), and 8 processes on 8 pool
 * homes.
 * - Refresh storm: every round, all 8 refresh the same 3 expired accounts at once. Every refresh
 *   token must be sent once (reuses 0, refreshes = accounts × rounds) and every process must end
 *   with the newest tokens; the figure is the round's wall time.
 * - Lease takeover: a holder is killed right after claiming; the time from the kill until another
 *   process has refreshed. It cannot be shorter than the claim's life (the claim is judged by the
 *   database clock, and a dead holder cannot release it); the target is that the takeover lands
 *   within one more claim's life after that (docs/decisions.md: "taken over within its lease time"). On an
 *   idle machine it lands one poll and one refresh after the claim expires.
 * - Session leases (pg-leases.ts): a stopped machine's lease lapsing, and the resumed machine
 *   acting on its lost lease.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { systemTempDir } from "../platform/paths.js";
import { startSimulator } from "../simulator/index.js";
import { median, ms, type Figure, type Progress } from "./measure.js";
import { startPgCluster } from "./pg-cluster.js";
import { benchSessionLeases } from "./pg-leases.js";
import {
  Machine,
  expireAll,
  hashOf,
  reuses,
  seedDue,
  sharedPoolDatabase,
  sharedStore,
} from "./pg-machines.js";

const MACHINES = 8;
const ACCOUNTS = ["acct-1", "acct-2", "acct-3"];
const ROUNDS = 10;
const TAKEOVER_TTL_MS = 2000;
const TAKEOVER_RUNS = 3;

export async function benchSharedPool(progress: Progress): Promise<Figure[]> {
  await using cluster = await startPgCluster();
  const sim = await startSimulator({
    accounts: [...ACCOUNTS, "acct-k"].map((accountId) => ({
      accountId,
      email: `${accountId}@example.com`,
    })),
  });
  const dir = await fs.mkdtemp(path.join(systemTempDir(), "codex-pool-bench-pg-"));
  try {
    const env = await sharedPoolDatabase(cluster);
    const store = sharedStore(path.join(dir, "bench"), env);
    try {
      const storm = await refreshStorm(dir, env, store, sim, progress);
      const takeover = await leaseTakeover(dir, env, store, sim, progress);
      const leases = await benchSessionLeases(cluster, progress);
      if (sim.strayRequests().length > 0)
        throw new Error("the shared-pool bench sent non-loopback traffic");
      return [...storm, ...takeover, ...leases];
    } finally {
      await store.close();
    }
  } finally {
    await sim.close();
    await fs.rm(dir, { recursive: true, force: true });
  }
}

type Sim = Awaited<ReturnType<typeof startSimulator>>;
type Store = ReturnType<typeof sharedStore>;

async function refreshStorm(
  dir: string,
  env: Record<string, string>,
  store: Store,
  sim: Sim,
  progress: Progress,
): Promise<Figure[]> {
  const ids: string[] = [];
  for (const a of ACCOUNTS) ids.push(await seedDue(store, sim, a));
  const options = { accounts: ids, claimTtlMs: 30_000, sendTimeoutMs: 15_000, pollMs: 50 };
  const machines = Array.from(
    { length: MACHINES },
    (_, i) => new Machine(path.join(dir, `m${i}`), sim.authUrl, env, options),
  );
  try {
    await Promise.all(machines.map((m) => m.waitFor("ready")));
    const reusedBefore = reuses(sim);
    const sentBefore = ACCOUNTS.reduce((n, a) => n + sim.refreshCount(a), 0);
    const rounds: number[] = [];
    let stale = 0;
    for (let round = 0; round < ROUNDS; round += 1) {
      if (round > 0) await expireAll(store);
      const start = process.hrtime.bigint();
      const results = await Promise.all(machines.map((m) => m.go()));
      rounds.push(Number(process.hrtime.bigint() - start) / 1e6);
      const pool = await store.read();
      for (const perMachine of results) {
        for (const r of perMachine) {
          const newest = pool.accounts.find((a) => a.id === r.account)?.tokens.accessToken ?? "";
          if (!r.ok || r.hash !== hashOf(newest)) stale += 1;
        }
      }
    }
    const sent = ACCOUNTS.reduce((n, a) => n + sim.refreshCount(a), 0) - sentBefore;
    const reused = reuses(sim) - reusedBefore;
    const needed = ACCOUNTS.length * ROUNDS;
    progress(
      `refresh storm: ${sent}/${needed} refreshes, ${reused} reused, ${stale} stale, round ${ms(median(rounds))}`,
    );
    const what = `${MACHINES} processes × ${ACCOUNTS.length} accounts × ${ROUNDS} rounds`;
    return [
      {
        group: "Shared pool",
        name: `refresh storm, ${what}: refresh tokens reused`,
        value: String(reused),
        target: "0",
        pass: reused === 0,
        runs: ROUNDS,
      },
      {
        group: "Shared pool",
        name: `refresh storm: refreshes sent / needed; processes left with older tokens`,
        value: `${sent} / ${needed}; ${stale}`,
        target: `${needed} / ${needed}; 0`,
        pass: sent === needed && stale === 0,
        runs: ROUNDS,
      },
      {
        group: "Shared pool",
        name: "refresh storm: one round (all processes hold the newest tokens), median",
        value: ms(median(rounds)),
        target: "reported",
        pass: null,
        runs: ROUNDS,
      },
    ];
  } finally {
    await Promise.all(machines.map((m) => m.quit()));
  }
}

async function leaseTakeover(
  dir: string,
  env: Record<string, string>,
  store: Store,
  sim: Sim,
  progress: Progress,
): Promise<Figure[]> {
  const id = await seedDue(store, sim, "acct-k");
  const times: number[] = [];
  const reusedBefore = reuses(sim);
  const sentBefore = sim.refreshCount("acct-k");
  const base = { accounts: [id], claimTtlMs: TAKEOVER_TTL_MS, sendTimeoutMs: 1500, pollMs: 50 };
  for (let run = 0; run < TAKEOVER_RUNS; run += 1) {
    if (run > 0) await expireAll(store);
    const holder = new Machine(path.join(dir, `h${run}`), sim.authUrl, env, {
      ...base,
      stopAt: "claimed",
    });
    const other = new Machine(path.join(dir, `o${run}`), sim.authUrl, env, base);
    try {
      await Promise.all([holder.waitFor("ready"), other.waitFor("ready")]);
      // Its round never ends: it stops itself after claiming and is killed below.
      void holder.go().catch(() => undefined);
      await holder.waitFor("stopped claimed");
      const taking = other.go();
      const start = process.hrtime.bigint();
      await holder.kill();
      const [result] = await taking;
      if (!result?.ok) throw new Error(`the takeover failed: ${result?.reason ?? "no result"}`);
      times.push(Number(process.hrtime.bigint() - start) / 1e6);
    } finally {
      await holder.kill();
      await other.quit();
    }
  }
  const sent = sim.refreshCount("acct-k") - sentBefore;
  const reused = reuses(sim) - reusedBefore;
  const m = median(times);
  progress(
    `lease takeover: ${ms(m)} after the kill (claim ${TAKEOVER_TTL_MS} ms), ${sent} sent, ${reused} reused`,
  );
  return [
    {
      group: "Shared pool",
      name: `lease takeover: a killed holder's claim (${TAKEOVER_TTL_MS} ms) taken over and refreshed, after the kill`,
      value: ms(m),
      target: `≤ ${2 * TAKEOVER_TTL_MS} ms (the claim expires, then the takeover within one more claim's life)`,
      pass: m <= 2 * TAKEOVER_TTL_MS && sent === TAKEOVER_RUNS && reused === 0,
      runs: TAKEOVER_RUNS,
      note: `${sent} refresh(es) sent for ${TAKEOVER_RUNS} takeovers, ${reused} reused`,
    },
  ];
}
