/**
 * The pool's side of every refresh in live mode (docs/decisions.md decision 11): codex is only ever
 * handed an account's access token, in memory (docs/codex-app-server.md §3); the refresh token
 * stays in the pool, which alone spends it (decision 3), through the one refresher
 * (src/auth/refresher.ts: single flight, leased across processes).
 *
 * - `supply` reads an account and returns the tokens to hand codex, refreshed first when the
 *   access token is within the refresh skew of its expiry. An account whose refresh token a codex
 *   of another session holds (relaunch mode) is never refreshed here: its token is handed over as
 *   long as it is valid, and refused after. Before a refresh, whatever an earlier relaunched codex
 *   left in the account's overlay home is taken back (`takeBack`): it may hold a newer refresh
 *   token than the pool, and spending the pool's would burn it (docs/supervisor.md "tokens");
 *   when that cannot be read, nothing is refreshed (TokensInDoubtError).
 * - `refreshDueAt` says when the token handed over should be replaced (ahead of its expiry), so the
 *   port can log the fresh one in between turns and codex never meets a 401.
 * - After a 401 codex asks for fresh tokens (`account/chatgptAuthTokens/refresh`, §3): `supply`
 *   with `replacing` refreshes even a token that still looks valid, unless someone else already
 *   rotated it (then the pool's newer token is the answer and nothing is spent).
 */
import { accessExpiresAt, blockedError } from "../auth/refresher.js";
import type { SuppliedAccount } from "../app-server/messages.js";
import type { Clock } from "../platform/clock.js";
import { accountName } from "../pool/account-name.js";
import { refreshTokenHeld } from "../pool/live-sessions.js";
import type { Account, LiveSession, Pool, Tokens } from "../pool/schema.js";
import type { PoolStore } from "../pool/store.js";
import { accountById } from "../pool/accounts.js";

export interface LiveTokenDeps {
  readonly store: Pick<PoolStore, "read">;
  readonly clock: Pick<Clock, "now">;
  /** Whether these tokens outlive the refresh skew (TokenRefresher.isFresh). */
  isFresh(tokens: Tokens): boolean;
  /** The refresher (TokenRefresher.ensureFresh). */
  ensureFresh(id: string, options?: { force?: boolean; signal?: AbortSignal }): Promise<Account>;
  /** The live sessions whose codex holds this account's refresh token (ours excluded). */
  refreshTokenHolders(pool: Pool, id: string): readonly LiveSession[];
  /**
   * Takes back the tokens an earlier relaunched codex left in the account's overlay home
   * (src/codex/adopt.ts takeBackTokens); throws when they cannot be read.
   */
  takeBack(account: Account): Promise<void>;
}

export interface Supplied {
  readonly account: Account;
  readonly supplied: SuppliedAccount;
}

function suppliedOf(account: Account): Supplied {
  return {
    account,
    supplied: {
      accessToken: account.tokens.accessToken,
      chatgptAccountId: account.accountId,
      planType: account.plan,
    },
  };
}

/**
 * The tokens to hand codex for account `id`. `replacing`: codex was refused the access token it
 * holds (a 401), so that one is refreshed whatever its expiry says.
 */
export async function supplyAccount(
  deps: LiveTokenDeps,
  id: string,
  options: { replacing?: string; signal?: AbortSignal } = {},
): Promise<Supplied> {
  const pool = await deps.store.read();
  const account = accountById(pool, id);
  const blocked = blockedError(accountName(pool, account), account);
  if (blocked !== null) throw blocked;
  const refused = options.replacing === account.tokens.accessToken;
  if (!refused && deps.isFresh(account.tokens)) return suppliedOf(account);
  const holders = deps.refreshTokenHolders(pool, id);
  if (holders.length > 0) {
    const end = accessExpiresAt(account.tokens);
    if (!refused && (end === null || end > deps.clock.now())) return suppliedOf(account);
    throw refreshTokenHeld(accountName(pool, account), holders);
  }
  await deps.takeBack(account);
  const fresh = await deps.ensureFresh(id, {
    ...(refused ? { force: true } : {}),
    ...(options.signal !== undefined ? { signal: options.signal } : {}),
  });
  return suppliedOf(fresh);
}

/**
 * When to replace the access token handed over at `now`: `skewMs` before its expiry, but never
 * sooner than half-way through what is left of it (a token issued for less than the skew would
 * otherwise be due at once, for ever). null: it does not expire.
 */
export function refreshDueAt(tokens: Tokens, now: number, skewMs: number): number | null {
  const end = accessExpiresAt(tokens);
  if (end === null) return null;
  return Math.max(end - skewMs, now + Math.max(0, end - now) / 2);
}
