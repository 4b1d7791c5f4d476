/**
 * Taking back tokens that codex rotated by itself (PRODUCT.md decision 3): while a child runs on an
 * account, codex owns its refresh token and rewrites the overlay auth.json when it refreshes; when
 * the child exits (and before the next launch, in case we died first) the file is read back and
 * newer tokens are adopted into the pool in one short transaction.
 */
import path from "node:path";
import { identityFromTokens } from "../auth/jwt.js";
import { adoptTokens } from "../pool/accounts.js";
import type { Account } from "../pool/schema.js";
import type { PoolStore } from "../pool/store.js";
import { poolTokensFrom, readAuthFile, tokensOf } from "./auth-file.js";

export type AdoptResult =
  | { readonly adopted: true; readonly account: Account }
  | {
      readonly adopted: false;
      readonly reason: "no-file" | "no-tokens" | "other-account" | "not-newer";
    };

export interface AdoptOptions {
  store: PoolStore;
  /** The account's overlay home. */
  home: string;
  /** The pool account the home belongs to. */
  account: Pick<Account, "id" | "accountId" | "email">;
}

export async function adoptTokensFromHome(options: AdoptOptions): Promise<AdoptResult> {
  const auth = await readAuthFile(path.join(options.home, "auth.json"));
  if (auth === null) return { adopted: false, reason: "no-file" };
  const tokens = tokensOf(auth);
  if (tokens === null) return { adopted: false, reason: "no-tokens" };
  // Only tokens of this very account are taken: a user who ran `codex login` inside the overlay
  // with another account must not overwrite this account's row.
  const identity = identityFromTokens(tokens.idToken, tokens.accessToken);
  const accountId = tokens.accountId ?? identity.accountId;
  const { account } = options;
  if (
    accountId !== account.accountId ||
    (identity.email !== null && identity.email !== account.email)
  ) {
    return { adopted: false, reason: "other-account" };
  }
  const updated = await options.store.transact((pool) => {
    const row = pool.accounts.find((a) => a.id === account.id);
    if (!row) return null;
    return adoptTokens(pool, row.accountId, row.email, poolTokensFrom(tokens));
  });
  return updated === null
    ? { adopted: false, reason: "not-newer" }
    : { adopted: true, account: updated };
}
