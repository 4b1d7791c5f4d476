/**
 * Taking back tokens that codex rotated by itself (docs/decisions.md decision 3): while a child runs on an
 * account, codex owns its refresh token and rewrites the overlay auth.json when it refreshes; when
 * the child exits (and before the next launch, in case we died first) the file is read back and
 * newer tokens are adopted into the pool in one short transaction.
 *
 * When they cannot be read back, nothing may refresh that account: codex may have rotated its
 * refresh token, and spending the pool's older one would be refused as reused and could log the
 * account out for good (docs/chatgpt-backend.md §2; docs/supervisor.md "tokens"). Nor may the file
 * be overwritten: it may hold the only live token. `takeBackTokens` turns every such failure into
 * one error that says so; its callers launch nothing on that account.
 */
import path from "node:path";
import { classed, errorMessage } from "../platform/errors.js";
import { accountName, maskEmail } from "../pool/account-name.js";
import { adoptTokens } from "../pool/accounts.js";
import type { Account } from "../pool/schema.js";
import type { PoolStore } from "../pool/store.js";
import { poolTokensFrom, readAuthFile, tokenOwner, tokensOf } from "./auth-file.js";

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
  const owner = tokenOwner(tokens);
  const { account } = options;
  if (
    owner.accountId !== account.accountId ||
    (owner.email !== null && owner.email !== account.email)
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

/** The tokens a child left could not be taken back: that account is neither refreshed nor launched. */
/** The class is auth_file's: an auth.json we cannot read; the hint says what to do with it. */
export class TokensInDoubtError extends classed("auth_file") {}

/** How the error names the account: as every message does, when the pool can still be read. */
async function nameOf(options: AdoptOptions): Promise<string> {
  try {
    const pool = await options.store.read();
    const row = pool.accounts.find((a) => a.id === options.account.id);
    if (row) return accountName(pool, row);
  } catch {
    // The pool is unreadable too: the masked email still names the account.
  }
  return maskEmail(options.account.email);
}

/** `adoptTokensFromHome`, with any failure turned into a TokensInDoubtError the user can act on. */
export async function takeBackTokens(options: AdoptOptions): Promise<AdoptResult> {
  try {
    return await adoptTokensFromHome(options);
  } catch (error) {
    const file = path.join(options.home, "auth.json");
    throw new TokensInDoubtError(
      `could not take back the tokens codex left for ${await nameOf(options)} in ${file} ` +
        `(${errorMessage(error)}); they may be newer than the pool's, so codex-pool neither ` +
        `refreshes nor overwrites them — fix that file (delete it if it is damaged: the pool's ` +
        `tokens are used then) and run again`,
      {
        cause: error,
        hint: `fix ${file}, or delete it if it is damaged (the pool's tokens are used then)`,
      },
    );
  }
}
