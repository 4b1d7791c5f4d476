/**
 * After any sign-in (browser, paste or device): turn the grant into pool tokens, read the identity
 * from the JWTs, and add or update the account in one short pool transaction.
 */
import { AuthError } from "../platform/errors.js";
import { accountIndex, upsertAccount } from "../pool/accounts.js";
import type { Account, Tokens } from "../pool/schema.js";
import type { PoolStore } from "../pool/store.js";
import { identityFromTokens, tokenExpiry } from "./jwt.js";
import type { TokenGrant } from "./token-client.js";

/**
 * Pool tokens from a grant. Refresh tokens rotate, so the previous one is kept only when the server
 * sent none; expiry comes from the access token's `exp`, else from `expires_in`.
 */
export function tokensFromGrant(grant: TokenGrant, now: Date, previous?: Tokens): Tokens {
  const refreshToken = grant.refreshToken ?? previous?.refreshToken;
  if (refreshToken === undefined) {
    throw new AuthError("the server sent no refresh token; run codex-pool login again");
  }
  const expiry =
    tokenExpiry(grant.accessToken) ??
    (grant.expiresIn !== null ? new Date(now.getTime() + grant.expiresIn * 1000) : null);
  return {
    accessToken: grant.accessToken,
    refreshToken,
    idToken: grant.idToken ?? previous?.idToken ?? "",
    accessTokenExpiresAt: expiry?.toISOString() ?? null,
    lastRefreshAt: now.toISOString(),
  };
}

export interface SignInResult {
  account: Account;
  created: boolean;
  /** 1-based position in the pool, as `list` shows it. */
  index: number;
}

/** Stores a fresh sign-in: the same ChatGPT account id + email again updates its row. */
export async function storeSignIn(
  store: PoolStore,
  grant: TokenGrant,
  now: Date,
): Promise<SignInResult> {
  const tokens = tokensFromGrant(grant, now);
  const identity = identityFromTokens(tokens.idToken, tokens.accessToken);
  if (identity.accountId === null || identity.email === null) {
    const missing = identity.accountId === null ? "a ChatGPT account id" : "an email";
    throw new AuthError(
      `the sign-in tokens carry no ${missing}, so the account cannot be identified; nothing was stored — try codex-pool login again`,
    );
  }
  const { accountId, email } = identity;
  return store.transact((pool) => {
    const { account, created } = upsertAccount(
      pool,
      { accountId, email, plan: identity.plan, tokens },
      now,
    );
    return { account: structuredClone(account), created, index: accountIndex(pool, account.id) };
  });
}
