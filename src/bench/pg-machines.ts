/**
 * Drives "machines" of a shared pool (pg-refresh-worker.ts, built): OS processes, each with its own
 * pool home, refreshing through the claim protocol against one database; and the pieces around
 * them (a store on the database, accounts seeded due for refresh). Used by the tests and the bench.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { createHash } from "node:crypto";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { storeSignIn } from "../auth/sign-in.js";
import { poolPaths } from "../platform/paths.js";
import { defaultSettings } from "../platform/settings.js";
import { openPoolStore } from "../pool/open-store.js";
import type { ClaimStep } from "../pool/pg/pg-refresh.js";
import type { PoolStore } from "../pool/store.js";
import type { Simulator } from "../simulator/index.js";
import { systemClock } from "../platform/clock.js";

/** Always the built worker, whether this module runs built (bench) or from source (tests). */
const WORKER = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  "../../dist/bench/pg-refresh-worker.js",
);
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

export class Machine {
  readonly child: ChildProcessWithoutNullStreams;
  private out = "";
  private err = "";
  private readonly waiters: { test: () => boolean; resolve: () => void }[] = [];
  readonly exited: Promise<number | null>;

  constructor(home: string, authUrl: string, env: Record<string, string>, options: MachineOptions) {
    this.child = spawn(process.execPath, [WORKER, home, authUrl, JSON.stringify(options)], {
      env: { ...process.env, ...env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    this.child.stdout.setEncoding("utf8").on("data", (d: string) => {
      this.out += d;
      for (const w of this.waiters.filter((x) => x.test())) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve();
      }
    });
    this.child.stderr.setEncoding("utf8").on("data", (d: string) => (this.err += d));
    this.exited = new Promise((resolve) => this.child.on("exit", (code) => resolve(code)));
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  private lines(): string[] {
    return this.out.split("\n").filter((l) => l !== "");
  }

  /** Resolves once stdout holds `text` (rejects if the process ends first). */
  waitFor(text: string): Promise<void> {
    return this.until(() => this.out.includes(text), `"${text}"`);
  }

  private until(test: () => boolean, what: string): Promise<void> {
    if (test()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.waiters.push({ test, resolve });
      void this.exited.then((code) => {
        if (!test())
          reject(new Error(`machine ${this.pid} exited (${code}) before ${what}: ${this.err}`));
      });
    });
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

  async kill(): Promise<void> {
    this.child.kill("SIGKILL");
    await this.exited;
  }
}

export const hashOf = (token: string): string => createHash("sha256").update(token).digest("hex");

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
