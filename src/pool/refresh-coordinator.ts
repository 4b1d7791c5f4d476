/**
 * Refresh ownership across processes and machines, beside the store (docs/team-pool.md "Refresh
 * protocol"). A refresh token is single-use: whoever spends it must be the only one, must commit
 * what it got, and everyone else must adopt that result instead of spending again
 * (docs/decisions.md decision 3). Two implementations:
 * - the file one (file-refresh.ts): a lease file per account on this machine, a re-read under it,
 *   and a commit only if the pool still holds the spent token;
 * - the PostgreSQL one (pg/pg-refresh.ts): a claim row on the database clock with a fence, a
 *   pre-send check that marks intent, a compare-and-set commit on the token generation, a local
 *   journal, and `in doubt` where no protocol can know what the service did.
 * The in-process single flight and the needs-login handling stay in src/auth/refresher.ts, on top.
 */
import type { Account, Tokens } from "./schema.js";

/**
 * How far a failed token request got, which decides what the old refresh token is worth:
 * `not-sent` (never left this machine: still good), `answered` (the service answered with a
 * non-definitive failure, e.g. a 5xx: it did not rotate), `unknown` (sent, no answer: the service
 * may have rotated — in doubt).
 */
export type SendFailure = "not-sent" | "answered" | "unknown";

/** What the refresher asks a coordinator to do, once, under ownership. */
export interface RefreshPlan {
  /** Whether `current` (re-read under ownership, tokens unchanged) still needs the refresh. */
  needed(current: Account): boolean;
  /**
   * Spends `account`'s refresh token in one request bounded by `timeoutMs`, and returns the new
   * tokens. A definitive refusal throws NeedsLoginError (carrying its reason).
   */
  send(account: Account, options: { signal?: AbortSignal; timeoutMs: number }): Promise<Tokens>;
  /** How far a failure of `send` other than NeedsLoginError got. */
  classify(error: unknown): SendFailure;
}

export type RefreshOutcome =
  /** Someone else's result (its tokens moved since it was seen), or no refresh was needed. */
  | { readonly kind: "current"; readonly account: Account }
  /** We spent the token and committed the new ones. */
  | { readonly kind: "refreshed"; readonly account: Account }
  /**
   * The token is dead (`reason`); `replaced` is the row when its tokens were replaced meanwhile
   * (a new login), which then stays usable.
   */
  | { readonly kind: "needs-login"; readonly reason: string; readonly replaced: Account | null }
  /** A refresh was sent and its outcome is unknown: nobody may spend this token again. */
  | { readonly kind: "in-doubt"; readonly account: Account };

export interface RefreshCoordinator {
  /**
   * Refreshes `seen` (as the caller read it) at most once across every process sharing the pool:
   * takes ownership of its refresh (or waits for the owner and adopts its result), re-reads it,
   * and calls `plan.send` only when its tokens are still the ones seen and `plan.needed` agrees.
   */
  run(seen: Account, plan: RefreshPlan, signal?: AbortSignal): Promise<RefreshOutcome>;
}

/** Same refresh and access token: the tokens a caller saw are still the pool's. */
export function sameTokens(a: Tokens, b: Tokens): boolean {
  return a.refreshToken === b.refreshToken && a.accessToken === b.accessToken;
}
