/**
 * End-to-end fixtures for the supervisor: the simulator, a throwaway HOME with a Codex home set up
 * for ChatGPT mode against it, a pool holding simulator accounts, and the env for the built CLI.
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs/promises";
import { poolPaths } from "../../src/platform/paths.js";
import type { Pool } from "../../src/pool/schema.js";
import { FilePoolStore } from "../../src/pool/file-store.js";
import type { PoolStore } from "../../src/pool/store.js";
import { codexEnv, prepareCodexHome } from "../../src/simulator/codex-home.js";
import { addSimAccounts } from "../../src/simulator/seed-pool.js";
import { startSimulator, type SimAccountSpec, type Simulator } from "../../src/simulator/index.js";
import { CLI } from "../helpers/cli.js";
import { CODEX_BIN, haveCodexBin } from "../helpers/codex-bin.js";
import { tempHomes } from "../helpers/tmp.js";

export const CODEX = CODEX_BIN;
export const haveCodex = haveCodexBin;

export interface Fixture extends AsyncDisposable {
  sim: Simulator;
  env: Record<string, string>;
  project: string;
  codexHome: string;
  poolHome: string;
  store: PoolStore;
  /** Our pool id of each simulator account, by ChatGPT account id. */
  ids: Record<string, string>;
  readPool(): Promise<Pool>;
}

export async function fixture(accounts: SimAccountSpec[]): Promise<Fixture> {
  const sim = await startSimulator({ accounts });
  const homes = await tempHomes();
  const project = homes.join("project");
  await fs.mkdir(project, { recursive: true });
  await prepareCodexHome(homes.codexHome, sim, { cwd: project });
  const env = codexEnv(sim, {
    ...homes.env,
    CODEX_POOL_AUTH_URL: sim.authUrl,
    CODEX_POOL_BACKEND_URL: sim.backendUrl,
    CODEX_POOL_CODEX_BIN: CODEX,
    NODE_EXTRA_CA_CERTS: sim.caFile,
    CODEX_POOL_KILL_GRACE: "3",
    // A continuation not taken is sent again after this; the simulator answers turns at once.
    CODEX_POOL_CONTINUE_TIMEOUT: "10",
  });
  const store = new FilePoolStore({
    paths: poolPaths(homes.poolHome),
    lockWaitMs: 10_000,
    lockStaleMs: 30_000,
  });
  const ids = await addSimAccounts(store, sim, accounts);
  return {
    sim,
    env,
    project,
    codexHome: homes.codexHome,
    poolHome: homes.poolHome,
    store,
    ids,
    readPool: () => store.read(),
    async [Symbol.asyncDispose]() {
      await sim.close();
      await homes[Symbol.asyncDispose]();
    },
  };
}

export interface Started {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts the built CLI (not awaited), for tests that signal it while it runs. */
export function startCli(args: string[], env: Record<string, string>, cwd: string): Started {
  const child = spawn(process.execPath, [CLI, ...args], {
    env,
    cwd,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
  child.stderr.setEncoding("utf8").on("data", (d: string) => (err += d));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("close", (code, signal) => resolve({ code, signal })),
  );
  return { child, stdout: () => out, stderr: () => err, done };
}

/** Polls `check` every `everyMs` until it returns a value, or fails after `timeoutMs`. */
export async function eventually<T>(
  what: string,
  check: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  timeoutMs = 30_000,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== null && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
