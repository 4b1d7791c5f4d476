/** Puts simulator accounts into a pool, each with freshly minted tokens (tests, demo, bench). */
import { tokenExpiry } from "../auth/jwt.js";
import { upsertAccount } from "../pool/accounts.js";
import type { PoolStore } from "../pool/store.js";
import type { Simulator } from "./types.js";

export interface SeedAccount {
  accountId: string;
  email: string;
  plan?: string;
  /** Lifetime of the minted access token, seconds (default: the simulator's). */
  ttlSeconds?: number;
}

/** Adds (or refreshes) the accounts in one transaction; returns our pool id by ChatGPT account id. */
export async function addSimAccounts(
  store: PoolStore,
  sim: Simulator,
  accounts: readonly SeedAccount[],
): Promise<Record<string, string>> {
  const ids: Record<string, string> = {};
  await store.transact((pool) => {
    const now = new Date();
    for (const spec of accounts) {
      const t = sim.mintTokens(
        spec.accountId,
        spec.ttlSeconds !== undefined ? { ttlSeconds: spec.ttlSeconds } : {},
      );
      const { account } = upsertAccount(
        pool,
        {
          accountId: spec.accountId,
          email: spec.email,
          plan: spec.plan ?? "plus",
          tokens: {
            accessToken: t.accessToken,
            refreshToken: t.refreshToken,
            idToken: t.idToken,
            accessTokenExpiresAt: tokenExpiry(t.accessToken)?.toISOString() ?? null,
            lastRefreshAt: now.toISOString(),
          },
        },
        now,
      );
      ids[spec.accountId] = account.id;
    }
  });
  return ids;
}
