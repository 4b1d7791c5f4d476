/**
 * The bench's world (the same ideas as test/supervisor/e2e-helpers.ts): the loopback simulator, a
 * throwaway HOME with a pool home and a Codex home prepared for the simulator, a pool holding the
 * simulator's accounts, and the environment for the built CLI. Nothing here leaves 127.0.0.1.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { poolPaths, systemTempDir } from "../platform/paths.js";
import { FilePoolStore } from "../pool/file-store.js";
import type { PoolStore } from "../pool/store.js";
import { codexEnv, prepareCodexHome } from "../simulator/codex-home.js";
import { startSimulator, type SimAccountSpec, type Simulator } from "../simulator/index.js";
import { addSimAccounts } from "../simulator/seed-pool.js";

export { addSimAccounts };

/** The package root (dist/bench/ → ../..). */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const CLI = path.join(ROOT, "dist/cli/main.js");
/** The npm launcher script, as `codex` is usually installed. */
export const CODEX_LAUNCHER = path.join(ROOT, "node_modules/.bin/codex");
/** The native binary the launcher spawns. */
export const CODEX_NATIVE = path.join(
  ROOT,
  "node_modules/@openai/codex-linux-x64/vendor/x86_64-unknown-linux-musl/bin/codex",
);

export interface Homes extends AsyncDisposable {
  readonly dir: string;
  readonly poolHome: string;
  readonly codexHome: string;
  readonly project: string;
  /** HOME, CODEX_POOL_HOME, CODEX_HOME, PATH (node and the npm `codex` first), no colours. */
  readonly env: Record<string, string>;
}

export async function tempHomes(prefix = "codex-pool-bench-"): Promise<Homes> {
  const dir = await fs.mkdtemp(path.join(systemTempDir(), prefix));
  const poolHome = path.join(dir, "pool");
  const codexHome = path.join(dir, "codex");
  const project = path.join(dir, "project");
  await fs.mkdir(codexHome, { recursive: true, mode: 0o700 });
  await fs.mkdir(project, { recursive: true });
  const env: Record<string, string> = {
    PATH: [path.dirname(process.execPath), path.dirname(CODEX_LAUNCHER), "/usr/bin", "/bin"].join(
      ":",
    ),
    HOME: dir,
    CODEX_POOL_HOME: poolHome,
    CODEX_HOME: codexHome,
    NO_COLOR: "1",
    LANG: "C.UTF-8",
  };
  return {
    dir,
    poolHome,
    codexHome,
    project,
    env,
    async [Symbol.asyncDispose]() {
      await fs.rm(dir, { recursive: true, force: true, maxRetries: 3 });
    },
  };
}

export function openStore(poolHome: string): PoolStore {
  return new FilePoolStore({ paths: poolPaths(poolHome), lockWaitMs: 60_000, lockStaleMs: 30_000 });
}

export interface World extends AsyncDisposable {
  readonly sim: Simulator;
  readonly homes: Homes;
  /** The environment for the built CLI against the simulator (loopback only). */
  readonly env: Record<string, string>;
  readonly store: PoolStore;
  /** Our pool id of each simulator account, by ChatGPT account id. */
  readonly ids: Readonly<Record<string, string>>;
}

export async function startWorld(accounts: SimAccountSpec[]): Promise<World> {
  const sim = await startSimulator({ accounts });
  const homes = await tempHomes();
  await prepareCodexHome(homes.codexHome, sim, { cwd: homes.project });
  const env = codexEnv(sim, {
    ...homes.env,
    CODEX_POOL_AUTH_URL: sim.authUrl,
    CODEX_POOL_BACKEND_URL: sim.backendUrl,
    CODEX_POOL_CODEX_BIN: CODEX_NATIVE,
    NODE_EXTRA_CA_CERTS: sim.caFile,
    CODEX_POOL_KILL_GRACE: "3",
  });
  const store = openStore(homes.poolHome);
  const ids = await addSimAccounts(store, sim, accounts);
  return {
    sim,
    homes,
    env,
    store,
    ids,
    async [Symbol.asyncDispose]() {
      await sim.close();
      await homes[Symbol.asyncDispose]();
    },
  };
}

/** `n` simulator accounts named acct-001…, with `extra` merged into each. */
export function simAccounts(n: number, extra: Partial<SimAccountSpec> = {}): SimAccountSpec[] {
  return Array.from({ length: n }, (_, i) => {
    const tag = String(i + 1).padStart(3, "0");
    return { accountId: `acct-${tag}`, email: `user${tag}@example.com`, ...extra };
  });
}
