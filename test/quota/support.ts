/** Shared pieces of the quota tests: a pool in a temp home seeded with simulator accounts. */
import { identityFromTokens, tokenExpiry } from "../../src/auth/jwt.js";
import { TokenRefresher } from "../../src/auth/refresher.js";
import { upsertAccount } from "../../src/pool/accounts.js";
import { poolPaths } from "../../src/platform/paths.js";
import type { Account, QuotaSnapshot } from "../../src/pool/schema.js";
import { FilePoolStore } from "../../src/pool/file-store.js";
import { nodeFetch } from "../../src/platform/http.js";
import type { PoolStore } from "../../src/pool/store.js";
import type { ProbeDeps } from "../../src/quota/probe-account.js";
import { startSimulator, type SimAccountSpec, type Simulator } from "../../src/simulator/index.js";

export function makeStore(poolHome: string): PoolStore {
  return new FilePoolStore({ paths: poolPaths(poolHome), lockWaitMs: 15_000, lockStaleMs: 30_000 });
}

export async function withSim(accounts: SimAccountSpec[]): Promise<Simulator & AsyncDisposable> {
  const sim = await startSimulator({ accounts });
  return Object.assign(sim, { [Symbol.asyncDispose]: () => sim.close() });
}

/** Adds each simulator account to the pool with freshly minted tokens (and an optional snapshot). */
export async function seedPool(
  store: PoolStore,
  sim: Simulator,
  seeds: { accountId: string; quota?: QuotaSnapshot; ttlSeconds?: number }[],
): Promise<Account[]> {
  return store.transact((pool) =>
    seeds.map((seed) => {
      const minted = sim.mintTokens(seed.accountId, { ttlSeconds: seed.ttlSeconds ?? 3600 });
      const who = identityFromTokens(minted.idToken, minted.accessToken);
      const { account } = upsertAccount(
        pool,
        {
          accountId: who.accountId ?? seed.accountId,
          email: who.email ?? `${seed.accountId}@example.com`,
          plan: who.plan,
          tokens: {
            accessToken: minted.accessToken,
            refreshToken: minted.refreshToken,
            idToken: minted.idToken,
            accessTokenExpiresAt: tokenExpiry(minted.accessToken)?.toISOString() ?? null,
            lastRefreshAt: null,
          },
        },
        new Date(),
      );
      account.quota = seed.quota ?? null;
      return structuredClone(account);
    }),
  );
}

export function probeDeps(store: PoolStore, sim: Simulator, poolHome: string): ProbeDeps {
  const refresher = new TokenRefresher({
    store,
    leasesDir: poolPaths(poolHome).leasesDir,
    authUrl: sim.authUrl,
    skewSeconds: 300,
    fetch: nodeFetch,
  });
  return {
    backendUrl: sim.httpBackendUrl,
    fetch: nodeFetch,
    tokens: refresher,
    now: () => new Date(),
  };
}
