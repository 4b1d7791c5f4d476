/**
 * Drives "machines" of a shared pool (pg-refresh-worker.ts, built): OS processes, each with its own
 * pool home, refreshing through the claim protocol against one database; and the pieces around
 * them (a store on the database, accounts seeded due for refresh). Used by the tests and the bench.
 */
import { createHash, randomBytes } from "node:crypto";
import { storeSignIn } from "../auth/sign-in.js";
import { poolPaths } from "../platform/paths.js";
import { defaultSettings } from "../platform/settings.js";
import { openPoolStore } from "../pool/open-store.js";
import type { ClaimStep } from "../pool/pg/pg-refresh.js";
import type { PoolStore } from "../pool/store.js";
import type { Simulator } from "../simulator/index.js";
import { systemClock } from "../platform/clock.js";
import { connect } from "../pool/pg/client.js";
import { migrate } from "../pool/pg/migrate.js";
import type { PgCluster } from "./pg-cluster.js";
import { builtWorker, WorkerProcess } from "./worker-process.js";

const WORKER = builtWorker("pg-refresh-worker");
export interface MachineResult {
  account: string;
  ok: boolean;
  hash?: string;
  name?: string;
  reason?: string | null;
}

export interface MachineOptions {
  accounts: string[];
  claimTtlMs: number;
  sendTimeoutMs: number;
  pollMs: number;
  stopAt?: ClaimStep;
}

export class Machine extends WorkerProcess {
  constructor(home: string, authUrl: string, env: Record<string, string>, options: MachineOptions) {
    super(WORKER, [home, authUrl, JSON.stringify(options)], env);
  }

  /** Starts one round ("go"); resolves with its results. */
  async go(): Promise<MachineResult[]> {
    const before = this.lines().filter((l) => l.startsWith("[")).length;
    this.child.stdin.write("go\n");
    await this.until(
      () => this.lines().filter((l) => l.startsWith("[")).length > before,
      "a result",
    );
    const results = this.lines().filter((l) => l.startsWith("["));
    return JSON.parse(results[before]!) as MachineResult[];
  }

  async quit(): Promise<void> {
    this.child.stdin.end("quit\n");
    await this.exited;
  }
}

export const hashOf = (token: string): string => createHash("sha256").update(token).digest("hex");

/** A new database on `cluster` with codex-pool's schema applied; its URL. */
export async function migratedDatabase(cluster: PgCluster): Promise<string> {
  const url = await cluster.createDatabase();
  const db = await connect(url, { max: 1 });
  try {
    await migrate(db);
  } finally {
    await db.end(1000);
  }
  return url;
}

/** A migrated database and the environment that points a codex-pool at it (a new team key). */
export async function sharedPoolDatabase(cluster: PgCluster): Promise<Record<string, string>> {
  return {
    CODEX_POOL_DATABASE_URL: await migratedDatabase(cluster),
    CODEX_POOL_DATABASE_KEY: randomBytes(32).toString("base64"),
  };
}

/** A store on the shared database (the test's own "machine"), closed by the caller. */
export function sharedStore(home: string, env: Record<string, string>): PoolStore {
  const settings = defaultSettings({ databaseUrl: env["CODEX_POOL_DATABASE_URL"] ?? "" });
  return openPoolStore({ settings, env, paths: poolPaths(home), clock: systemClock });
}

/** Signs the simulator's account into the pool with tokens already due for refresh. */
export async function seedDue(
  store: PoolStore,
  sim: Simulator,
  accountId: string,
): Promise<string> {
  const minted = sim.mintTokens(accountId, { ttlSeconds: 10 });
  const { account } = await storeSignIn(store, { ...minted, expiresIn: 10 }, new Date());
  return account.id;
}

/** Makes every account's access token due again (same tokens, expiry in the past). */
export async function expireAll(store: PoolStore): Promise<void> {
  await store.transact((pool) => {
    for (const a of pool.accounts) {
      a.tokens.accessTokenExpiresAt = new Date(Date.now() - 1000).toISOString();
    }
  });
}

/** Every refresh the simulator refused as a reuse of a spent token. */
export function reuses(sim: Simulator): number {
  return sim.requests().filter((r) => r.error === "refresh_token_reused").length;
}
