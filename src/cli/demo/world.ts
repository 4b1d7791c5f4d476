/**
 * The demo's world: the simulator with three accounts, a throwaway pool home and Codex home
 * holding them, and the environment for codex-pool children. The user's real homes are never
 * touched; everything lives in one private temp folder removed by `dispose`.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { resolveCodexBinary } from "../../codex/binary.js";
import { ensurePrivateDir } from "../../platform/atomic-file.js";
import { homeDir, poolPaths, systemTempDir, type Env } from "../../platform/paths.js";
import { defaultSettings } from "../../platform/settings.js";
import { FilePoolStore } from "../../pool/file-store.js";
import { codexEnv, prepareCodexHome, startSimulator } from "../../simulator/index.js";
import { addSimAccounts } from "../../simulator/seed-pool.js";
import type { SimAccountSpec, Simulator } from "../../simulator/index.js";

export interface DemoWorld {
  readonly sim: Simulator;
  readonly dir: string;
  readonly project: string;
  readonly env: Record<string, string>;
  readonly accounts: readonly SimAccountSpec[];
  dispose(): Promise<void>;
}

/** Alice is nearly out (her next turn hits the limit), Bob is healthy, Carol resets in a minute. */
export function demoScenario(nowSeconds: number, tui: boolean): SimAccountSpec[] {
  const carolReset = nowSeconds + 60;
  return [
    {
      accountId: "acct-alice",
      email: "alice@example.com",
      plan: "plus",
      usage: { primaryUsedPercent: 93, primaryResetAt: nowSeconds + 2 * 3600 + 13 * 60 },
      // exec: the first turn already hits the limit. TUI: one answer, leaving her 6% (above the
      // 5% floor, so no switch ahead of the limit, but near it: bob is checked ahead), then the
      // limit on the second prompt, which the continuation takes up under bob.
      turns: {
        limitAfter: tui ? 1 : 0,
        usedPercentByTurn: [94],
        resetsAt: nowSeconds + 2 * 3600 + 13 * 60,
      },
    },
    {
      accountId: "acct-bob",
      email: "bob@example.com",
      plan: "plus",
      usage: { primaryUsedPercent: 12, secondaryUsedPercent: 30 },
      turns: { usedPercentByTurn: [14, 16, 18, 20] },
    },
    {
      accountId: "acct-carol",
      email: "carol@example.com",
      plan: "pro",
      usage: { primaryUsedPercent: 100, primaryResetAt: carolReset },
      turns: { limitAfter: 0, resetsAt: carolReset },
    },
  ];
}

/** The pinned codex the demo was made for when it is installed, else whatever codex the user has. */
function demoCodexBinary(env: Env): string {
  const settings = defaultSettings();
  try {
    return resolveCodexBinary({ ...env, PATH: "" }, settings).path;
  } catch {
    return resolveCodexBinary(env, settings).path;
  }
}

async function demoRoot(env: Env): Promise<string> {
  // Outside /tmp when we can: codex warns about helper binaries under a temporary CODEX_HOME.
  const cache = path.join(homeDir(env), ".cache", "codex-pool");
  try {
    await ensurePrivateDir(cache);
    return await fs.mkdtemp(path.join(cache, "demo-"));
  } catch {
    return fs.mkdtemp(path.join(systemTempDir(), "codex-pool-demo-"));
  }
}

export async function createDemoWorld(env: Env, options: { tui: boolean }): Promise<DemoWorld> {
  const codexBin = demoCodexBinary(env);
  const dir = await demoRoot(env);
  await fs.chmod(dir, 0o700);
  let sim: Simulator | null = null;
  try {
    const accounts = demoScenario(Math.floor(Date.now() / 1000), options.tui);
    sim = await startSimulator({ accounts, dir: path.join(dir, "sim") });
    const poolHome = path.join(dir, "pool");
    const codexHome = path.join(dir, "codex");
    const project = path.join(dir, "project");
    await fs.mkdir(project, { recursive: true });
    await prepareCodexHome(codexHome, sim, { cwd: project });
    const store = new FilePoolStore({
      paths: poolPaths(poolHome),
      lockWaitMs: 10_000,
      lockStaleMs: 30_000,
    });
    const simulator = sim;
    await addSimAccounts(store, simulator, accounts);
    const base: Record<string, string> = {};
    for (const key of [
      "PATH",
      "TERM",
      "LANG",
      "LC_ALL",
      "NO_COLOR",
      "COLORTERM",
      "TZ",
      "USER",
      "LOGNAME",
      "SHELL",
    ]) {
      const value = env[key];
      if (value !== undefined) base[key] = value;
    }
    const childEnv = codexEnv(sim, {
      ...base,
      HOME: dir,
      CODEX_POOL_HOME: poolHome,
      CODEX_HOME: codexHome,
      CODEX_POOL_AUTH_URL: sim.authUrl,
      CODEX_POOL_BACKEND_URL: sim.backendUrl,
      CODEX_POOL_CODEX_BIN: codexBin,
      NODE_EXTRA_CA_CERTS: sim.caFile,
      CODEX_POOL_KILL_GRACE: "3",
    });
    return {
      sim,
      dir,
      project,
      env: childEnv,
      accounts,
      async dispose() {
        await simulator.close();
        await fs.rm(dir, { recursive: true, force: true, maxRetries: 3 });
      },
    };
  } catch (error) {
    await sim?.close();
    await fs.rm(dir, { recursive: true, force: true });
    throw error;
  }
}
