/**
 * Session leases on the shared pool (docs/team-pool.md "Session leases"), for `npm run bench`: two
 * machines (session-worker.ts processes on their own pool homes) on one database, with a short
 * lease. Machine 1 runs a session on A and is stopped (SIGSTOP); the figures are
 * - how long after the stop its lease lapses by the database clock (at most the lease's TTL: it
 *   was renewed at most a heartbeat before the stop), after which machine 2 takes A;
 * - once resumed, how long machine 1 takes to learn it lost the lease and order the move to another
 *   account (idle at a turn boundary): its overdue renewal runs at once, so about one renewal and one
 *   selection.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { systemTempDir } from "../platform/paths.js";
import { upsertAccount } from "../pool/accounts.js";
import { sql } from "../pool/pg/client.js";
import type { PgPoolStore } from "../pool/pg/pg-store.js";
import { makeWindow } from "../quota/windows.js";
import { median, ms, type Figure, type Progress } from "./measure.js";
import type { PgCluster } from "./pg-cluster.js";
import { sharedPoolDatabase, sharedStore } from "./pg-machines.js";
import { SessionMachine } from "./session-machines.js";

const LEASE = { heartbeatMs: 200, ttlMs: 2000 };
const RUNS = 3;
/** How often the bench looks at the lease, and what it allows for looking (and being slow). */
const POLL_MS = 20;
const SLACK_MS = 100;

/**
 * Resolves once no lease of `host` is current by the database clock; throws when one still is
 * well past its TTL (the failure this bench measures must end the run, not hang it).
 */
async function lapsed(store: PgPoolStore, host: string): Promise<void> {
  const { db } = await store.ready();
  const deadline = Date.now() + 3 * LEASE.ttlMs;
  for (;;) {
    if (Date.now() > deadline) {
      throw new Error(`the lease of ${host} was still current ${3 * LEASE.ttlMs} ms later`);
    }
    const [row] = await db.rows<{ n: number }>(sql`
      select count(*)::int as n from codex_pool.sessions
       where host = ${host} and expires_at > clock_timestamp()`);
    if (row?.n === 0) return;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

export async function benchSessionLeases(
  cluster: PgCluster,
  progress: Progress,
): Promise<Figure[]> {
  const env = await sharedPoolDatabase(cluster);
  const dir = await fs.mkdtemp(path.join(systemTempDir(), "codex-pool-bench-lease-"));
  const store = sharedStore(path.join(dir, "bench"), env) as PgPoolStore;
  const lapses: number[] = [];
  const moves: number[] = [];
  try {
    const [a, b] = await store.transact((pool) =>
      [0, 50].map((used, i) => {
        const now = Date.now();
        const { account } = upsertAccount(
          pool,
          {
            accountId: `acct-lease-${i}`,
            email: `lease${i}@example.com`,
            plan: "plus",
            tokens: {
              accessToken: `at-${i}`,
              refreshToken: `rt-${i}`,
              idToken: "",
              accessTokenExpiresAt: new Date(now + 24 * 3600_000).toISOString(),
              lastRefreshAt: null,
            },
          },
          new Date(now),
        );
        account.quota = {
          observedAt: new Date(now).toISOString(),
          source: "usage-api",
          plan: "plus",
          windows: [makeWindow(300, used, new Date(now + 24 * 3600_000))],
          limitReached: false,
        };
        return account.id;
      }),
    );
    for (let run = 0; run < RUNS; run += 1) {
      const m1 = new SessionMachine(path.join(dir, `a${run}`), env, { ...LEASE, host: "m1" });
      let m2: SessionMachine | null = null;
      try {
        if ((await m1.line("start ")) !== `start ${a}`) throw new Error("machine 1 did not take A");
        m1.send("bind s-1");
        await m1.line(`leased ${a} running`);
        // Stopped between two transactions (right after a renewal), as a sleeping machine is.
        m1.send("stop");
        await m1.line("stopped");
        const stopped = process.hrtime.bigint();
        await lapsed(store, "m1");
        lapses.push(Number(process.hrtime.bigint() - stopped) / 1e6);
        // Started once the lease lapsed: A is free, and the best.
        m2 = new SessionMachine(path.join(dir, `b${run}`), env, { ...LEASE, host: "m2" });
        if ((await m2.line("start ")) !== `start ${a}`) throw new Error("machine 2 did not take A");
        m2.send("bind s-2");
        await m2.line(`leased ${a} running`);
        const resumed = process.hrtime.bigint();
        m1.child.kill("SIGCONT");
        if ((await m1.line("move ")) !== `move ${a} ${b}`)
          throw new Error("machine 1 did not move");
        moves.push(Number(process.hrtime.bigint() - resumed) / 1e6);
        await Promise.all([m1.quit(), m2.quit()]);
      } finally {
        m1.child.kill("SIGCONT");
        await Promise.all([m1.kill(), m2?.kill()]);
      }
    }
  } finally {
    await store.close();
    await fs.rm(dir, { recursive: true, force: true });
  }
  progress(
    `session lease: lapses ${ms(median(lapses))} after the stop, lost lease acted on ${ms(median(moves))} after the resume`,
  );
  return [
    {
      group: "Shared pool",
      name: `session lease (${LEASE.ttlMs} ms, renewed every ${LEASE.heartbeatMs} ms): a stopped machine's lease lapses, after the stop, median`,
      value: ms(median(lapses)),
      target: `≤ ${LEASE.ttlMs + SLACK_MS} ms (the TTL after its last renewal, which came before the stop; + the ${POLL_MS} ms poll that sees it)`,
      pass: median(lapses) <= LEASE.ttlMs + SLACK_MS,
      runs: RUNS,
    },
    {
      group: "Shared pool",
      name: "session lease lost: resumed, the machine orders the move off the account another took, after the resume, median",
      value: ms(median(moves)),
      target: "≤ 1000 ms (one overdue renewal and one selection)",
      pass: median(moves) <= 1000,
      runs: RUNS,
    },
  ];
}
