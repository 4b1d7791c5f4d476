/** A pool, a real Codex home and an environment pointing the built CLI at the simulator. */
import fs from "node:fs/promises";
import path from "node:path";
import { tokenExpiry } from "../../src/auth/jwt.js";
import { poolPaths } from "../../src/platform/paths.js";
import { upsertAccount } from "../../src/pool/accounts.js";
import { FilePoolStore } from "../../src/pool/file-store.js";
import type { PoolStore } from "../../src/pool/store.js";
import { codexEnv, prepareCodexHome } from "../../src/simulator/codex-home.js";
import { startSimulator, type SimAccountSpec, type Simulator } from "../../src/simulator/index.js";
import { CODEX_BIN, CODEX_OVERRIDDEN, haveCodexBin } from "../helpers/codex-bin.js";
import { tempDir, type TempDir } from "../helpers/tmp.js";

export const NATIVE_CODEX = CODEX_BIN;
export const haveCodex = haveCodexBin;

export async function withSim(accounts: SimAccountSpec[]): Promise<Simulator & AsyncDisposable> {
  const sim = await startSimulator({ accounts });
  return Object.assign(sim, { [Symbol.asyncDispose]: () => sim.close() });
}

export interface PoolWorld extends TempDir {
  poolHome: string;
  codexHome: string;
  project: string;
  store: PoolStore;
  /** The env for `codex-pool` (the CLI passes it on to codex, minus its own settings). */
  env: Record<string, string>;
}

/**
 * A pool holding `accountIds` (in that order, tokens minted by the simulator; `ttl` per account
 * overrides the access-token lifetime), a real Codex home configured for the simulator but
 * WITHOUT its backend keys (codex-pool must add them), and a project folder.
 */
export async function poolWorld(
  sim: Simulator,
  accountIds: string[],
  options: { ttl?: Record<string, number>; codexConfig?: (config: string) => string } = {},
): Promise<PoolWorld> {
  const dir = await tempDir("cp-codex-e2e-");
  const poolHome = dir.join("pool");
  const codexHome = dir.join("codex");
  const project = dir.join("project");
  await fs.mkdir(project, { recursive: true });
  await prepareCodexHome(codexHome, sim, { cwd: project });
  // The backend comes from CODEX_POOL_BACKEND_URL through codex-pool's -c overrides, not the file.
  const configFile = path.join(codexHome, "config.toml");
  let config = (await fs.readFile(configFile, "utf8"))
    .split("\n")
    .filter((l) => !/^(chatgpt_base_url|openai_base_url|cli_auth_credentials_store)\s*=/.test(l))
    .join("\n");
  if (options.codexConfig) config = options.codexConfig(config);
  await fs.writeFile(configFile, config);
  const store = new FilePoolStore({
    paths: poolPaths(poolHome),
    lockWaitMs: 5000,
    lockStaleMs: 30_000,
  });
  await store.transact((pool) => {
    for (const id of accountIds) {
      const ttl = options.ttl?.[id];
      const t = sim.mintTokens(id, ttl !== undefined ? { ttlSeconds: ttl } : {});
      const email = emailOf(t.idToken);
      upsertAccount(
        pool,
        {
          accountId: id,
          email,
          plan: "plus",
          tokens: {
            accessToken: t.accessToken,
            refreshToken: t.refreshToken,
            idToken: t.idToken,
            accessTokenExpiresAt: tokenExpiry(t.accessToken)?.toISOString() ?? null,
            lastRefreshAt: new Date().toISOString(),
          },
        },
        new Date(),
      );
    }
  });
  const base = codexEnv(sim, {
    PATH: process.env["PATH"] ?? "/usr/bin:/bin",
    HOME: dir.path,
    LANG: "C.UTF-8",
    NO_COLOR: "1",
  });
  // codex-pool sets these for the child from its own settings; prove it by not giving them.
  delete base["CODEX_REFRESH_TOKEN_URL_OVERRIDE"];
  delete base["CODEX_REVOKE_TOKEN_URL_OVERRIDE"];
  const env = {
    ...base,
    CODEX_POOL_HOME: poolHome,
    CODEX_HOME: codexHome,
    CODEX_POOL_AUTH_URL: sim.authUrl,
    CODEX_POOL_BACKEND_URL: sim.backendUrl,
    // `npm run test:codex -- <version>`: the CLI runs the version under test, not the pinned one.
    ...(CODEX_OVERRIDDEN ? { CODEX_POOL_CODEX_BIN: CODEX_BIN } : {}),
  };
  return Object.assign(dir, { poolHome, codexHome, project, store, env });
}

function emailOf(idToken: string): string {
  const payload = JSON.parse(
    Buffer.from(idToken.split(".")[1] ?? "", "base64url").toString("utf8"),
  ) as { email?: string };
  return payload.email ?? "";
}

export function sessionIdFrom(output: string): string | undefined {
  return /session id: ([0-9a-f-]{36})/.exec(output)?.[1];
}
