/**
 * The pool store under contention (docs/decisions.md): `procs` processes × 50 read-modify-write
 * transactions on one pool at once, released together; every increment must survive (0 lost
 * updates) and the rate is the total transactions over the wall time from "go" to the last "done".
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { upsertAccount } from "../pool/accounts.js";
import { openStore, tempHomes } from "./fixture.js";
import { median, type Figure, type Progress } from "./measure.js";

const WORKER = path.join(path.dirname(fileURLToPath(import.meta.url)), "store-worker.js");
const PER_PROCESS = 50;
/** Other accounts in the pool, so each transaction reads and writes a realistic file. */
const FILLER_ACCOUNTS = 10;

function waitFor(child: ChildProcessWithoutNullStreams, word: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = "";
    let err = "";
    const onData = (d: string): void => {
      out += d;
      if (out.includes(word)) {
        child.stdout.off("data", onData);
        resolve();
      }
    };
    child.stdout.setEncoding("utf8").on("data", onData);
    child.stderr.setEncoding("utf8").on("data", (d: string) => (err += d));
    child.once("exit", (code) => {
      if (!out.includes(word)) reject(new Error(`store worker exited ${code}: ${err.slice(-500)}`));
    });
  });
}

async function oneRound(procs: number): Promise<{ txPerSecond: number; lost: number }> {
  await using homes = await tempHomes();
  const store = openStore(homes.poolHome);
  const fake = "x".repeat(1500);
  let counterId = "";
  await store.transact((pool) => {
    for (let i = 0; i <= FILLER_ACCOUNTS; i += 1) {
      const { account } = upsertAccount(
        pool,
        {
          accountId: `acct-${i}`,
          email: `user${i}@example.com`,
          plan: "plus",
          tokens: {
            accessToken: fake,
            refreshToken: `rt-${i}`,
            idToken: fake,
            accessTokenExpiresAt: null,
            lastRefreshAt: null,
          },
        },
        new Date(),
      );
      if (i === 0) {
        account.label = "0";
        counterId = account.id;
      }
    }
  });
  const workers = Array.from({ length: procs }, () =>
    spawn(process.execPath, [WORKER, homes.poolHome, counterId, String(PER_PROCESS)], {
      stdio: ["pipe", "pipe", "pipe"],
    }),
  );
  await Promise.all(workers.map((w) => waitFor(w, "ready")));
  const finished = workers.map((w) => waitFor(w, "done"));
  const start = process.hrtime.bigint();
  for (const w of workers) w.stdin.write("go\n");
  await Promise.all(finished);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const pool = await store.read();
  const counted = Number(pool.accounts.find((a) => a.id === counterId)?.label ?? "0");
  return { txPerSecond: (procs * PER_PROCESS) / seconds, lost: procs * PER_PROCESS - counted };
}

export async function benchStore(progress: Progress, runs = 3): Promise<Figure[]> {
  const figures: Figure[] = [];
  for (const procs of [4, 8]) {
    const rates: number[] = [];
    let lost = 0;
    for (let i = 0; i < runs; i += 1) {
      const round = await oneRound(procs);
      rates.push(round.txPerSecond);
      lost += round.lost;
    }
    const rate = median(rates);
    progress(`pool store: ${procs} processes, ${rate.toFixed(0)} tx/s, ${lost} lost`);
    figures.push(
      {
        group: "Pool store",
        name: `${procs} processes × ${PER_PROCESS} transactions: lost updates (all runs)`,
        value: String(lost),
        target: "0",
        pass: lost === 0,
        runs,
      },
      {
        group: "Pool store",
        name: `${procs} processes × ${PER_PROCESS} transactions: rate`,
        value: `${rate.toFixed(0)} tx/s`,
        target: "reported",
        pass: null,
        runs,
      },
    );
  }
  return figures;
}
