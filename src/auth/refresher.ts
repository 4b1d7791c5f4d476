/**
 * The token refresher every part of codex-pool uses. Refresh tokens are single-use, so spending one
 * twice logs the account out for good (docs/decisions.md decision 3). Two layers:
 * - inside a process, callers of one account share one in-flight promise (single flight);
 * - across processes and machines, a refresh coordinator (src/pool/refresh-coordinator.ts) owns
 *   the spend: the store's own one by default (a lease file for the file pool, the claim protocol
 *   of docs/team-pool.md for PostgreSQL), which re-reads the account under ownership, adopts
 *   another's result instead of spending again, and commits the rotated tokens only if the pool
 *   still holds the token that was spent.
 * A permanent failure marks the account needs-login (never deletes it) and throws NeedsLoginError;
 * an account whose refresh is in doubt is never refreshed (it throws NeedsLoginError too, with
 * reason `refresh_in_doubt`, since only a new login or its holder's journal can settle it).
 */
import { systemClock, type Clock } from "../platform/clock.js";
import { NeedsLoginError } from "../platform/errors.js";
import { accountName } from "../pool/account-name.js";
import { refreshCoordinatorFor } from "../pool/open-store.js";
import type { RefreshCoordinator, RefreshPlan, SendFailure } from "../pool/refresh-coordinator.js";
import type { Account, Tokens } from "../pool/schema.js";
import type { PoolStore } from "../pool/store.js";
import { tokenExpiry } from "./jwt.js";
import { tokensFromGrant } from "./sign-in.js";
import { TokenSendError, refreshGrant } from "./token-client.js";
import type { HttpFetch } from "../platform/http.js";
import { accountById } from "../pool/accounts.js";

export interface TokenRefresherOptions {
  store: PoolStore;
  leasesDir: string;
  authUrl: string;
  /** Refresh when the access token expires within this many seconds. */
  skewSeconds: number;
  fetch: HttpFetch;
  clock?: Clock;
  /** The lease counts as abandoned when not renewed for this long (its owner renews it). */
  lockStaleMs?: number;
  /** How long to wait for another process's refresh of the same account. */
  leaseWaitMs?: number;
  /** Who owns refreshes across processes; default: the store's own (refreshCoordinatorFor). */
  coordinator?: RefreshCoordinator;
}

/** Codex's rule for tokens without a JWT `exp`: refresh when the last refresh is 8 days old. */
const NO_EXPIRY_MAX_AGE_MS = 8 * 24 * 3600_000;

export const IN_DOUBT_REASON = "refresh_in_doubt";

/**
 * Why `account` (named `name`) cannot be used until it signs in again: it needs a login, or a
 * refresh of it is in doubt (docs/team-pool.md). null: it can be used.
 */
export function blockedError(name: string, account: Account): NeedsLoginError | null {
  if (account.state.kind === "ok") return null;
  const reason = account.state.kind === "in-doubt" ? IN_DOUBT_REASON : account.state.reason;
  const what =
    account.state.kind === "in-doubt"
      ? `a refresh of ${name} is in doubt (${account.state.reason}); run codex-pool login to sign it in again`
      : `${name} needs to sign in again (${account.state.reason}); run codex-pool login`;
  return new NeedsLoginError(what, reason);
}

/** When the access token expires (ms since the epoch): the stored expiry, else its JWT `exp`. */
export function accessExpiresAt(tokens: Tokens): number | null {
  if (tokens.accessTokenExpiresAt !== null) return Date.parse(tokens.accessTokenExpiresAt);
  return tokenExpiry(tokens.accessToken)?.getTime() ?? null;
}

export class TokenRefresher {
  private readonly opts: TokenRefresherOptions & { clock: Clock };
  private readonly coordinator: RefreshCoordinator;
  private readonly inFlight = new Map<string, Promise<Account>>();

  constructor(options: TokenRefresherOptions) {
    this.opts = { ...options, clock: options.clock ?? systemClock };
    this.coordinator =
      options.coordinator ??
      refreshCoordinatorFor(options.store, {
        leasesDir: options.leasesDir,
        clock: this.opts.clock,
        ...(options.lockStaleMs !== undefined ? { lockStaleMs: options.lockStaleMs } : {}),
        ...(options.leaseWaitMs !== undefined ? { leaseWaitMs: options.leaseWaitMs } : {}),
      });
  }

  /** True when the access token stays valid for more than the skew. */
  isFresh(tokens: Tokens): boolean {
    const now = this.opts.clock.now();
    const expiresAt = accessExpiresAt(tokens);
    if (expiresAt === null) {
      const last = tokens.lastRefreshAt === null ? 0 : Date.parse(tokens.lastRefreshAt);
      return now - last < NO_EXPIRY_MAX_AGE_MS;
    }
    return expiresAt > now + this.opts.skewSeconds * 1000;
  }

  /**
   * The account (by our `acc_` id) with an access token valid beyond the skew, refreshing it if
   * needed (or always, with `force`, e.g. after a 401).
   */
  async ensureFresh(
    accountRef: string,
    options: { force?: boolean; signal?: AbortSignal } = {},
  ): Promise<Account> {
    const pool = await this.opts.store.read();
    const account = accountById(pool, accountRef);
    const name = accountName(pool, account);
    const blocked = blockedError(name, account);
    if (blocked) throw blocked;
    if (!options.force && this.isFresh(account.tokens)) return account;
    const running = this.inFlight.get(account.id);
    if (running) return running;
    const refresh = this.refreshOnce(account, name, options).finally(() => {
      this.inFlight.delete(account.id);
    });
    this.inFlight.set(account.id, refresh);
    return refresh;
  }

  /** What the coordinator runs under ownership: one request to the token endpoint. */
  plan(force: boolean): RefreshPlan {
    const { authUrl, fetch, clock } = this.opts;
    return {
      needed: (current) => force || !this.isFresh(current.tokens),
      send: async (account, { signal, timeoutMs }) => {
        const grant = await refreshGrant(account.tokens.refreshToken, {
          authUrl,
          fetch,
          timeoutMs,
          ...(signal ? { signal } : {}),
        });
        return tokensFromGrant(grant, new Date(clock.now()), account.tokens);
      },
      classify: (error): SendFailure =>
        error instanceof TokenSendError ? error.delivery : "unknown",
    };
  }

  private async refreshOnce(
    seen: Account,
    name: string,
    options: { force?: boolean; signal?: AbortSignal },
  ): Promise<Account> {
    const outcome = await this.coordinator.run(
      seen,
      this.plan(options.force === true),
      options.signal,
    );
    switch (outcome.kind) {
      case "current":
      case "refreshed":
        return outcome.account;
      case "in-doubt": {
        throw (
          blockedError(name, outcome.account) ??
          new NeedsLoginError(
            `a refresh of ${name} is in doubt; run codex-pool login to sign it in again`,
            IN_DOUBT_REASON,
          )
        );
      }
      case "needs-login":
        // A new login replaced the dead token meanwhile: its tokens serve.
        if (outcome.replaced !== null && this.isFresh(outcome.replaced.tokens)) {
          return outcome.replaced;
        }
        throw new NeedsLoginError(
          `${name} needs to sign in again (${outcome.reason}); run codex-pool login`,
          outcome.reason,
        );
    }
  }
}
