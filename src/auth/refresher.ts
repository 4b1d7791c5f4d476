/**
 * The token refresher every part of codex-pool uses. Refresh tokens are single-use, so spending one
 * twice logs the account out for good (PRODUCT.md "never log me out"). Three guards:
 * - inside a process, callers of one account share one in-flight promise (single flight);
 * - across processes, a file lease `<leasesDir>/<acc id>.lock` is held for the whole refresh, and
 *   after taking it the account is re-read: if its tokens changed meanwhile another process won the
 *   race and its result is returned, not refreshed again;
 * - the rotated tokens are committed in one short pool transaction (the pool lock is never held
 *   across the HTTP call), and only if the pool still holds the refresh token that was spent.
 * A permanent failure marks the account needs-login (never deletes it) and throws NeedsLoginError.
 */
import path from "node:path";
import { ensurePrivateDir } from "../platform/atomic-file.js";
import { systemClock, type Clock } from "../platform/clock.js";
import { AccountNotFoundError, NeedsLoginError } from "../platform/errors.js";
import { withLock } from "../platform/lock.js";
import { accountName } from "../pool/account-name.js";
import type { Account, Pool, Tokens } from "../pool/schema.js";
import type { PoolStore } from "../pool/store.js";
import { tokenExpiry } from "./jwt.js";
import { tokensFromGrant } from "./sign-in.js";
import { refreshGrant } from "./token-client.js";

export interface TokenRefresherOptions {
  store: PoolStore;
  leasesDir: string;
  authUrl: string;
  /** Refresh when the access token expires within this many seconds. */
  skewSeconds: number;
  fetch: typeof fetch;
  clock?: Clock;
  /** The lease counts as abandoned when not renewed for this long (its owner renews it). */
  lockStaleMs?: number;
  /** How long to wait for another process's refresh of the same account. */
  leaseWaitMs?: number;
}

/** Codex's rule for tokens without a JWT `exp`: refresh when the last refresh is 8 days old. */
const NO_EXPIRY_MAX_AGE_MS = 8 * 24 * 3600_000;

function needsLogin(pool: Pool, account: Account): NeedsLoginError | null {
  if (account.state.kind !== "needs-login") return null;
  return new NeedsLoginError(
    `${accountName(pool, account)} needs to sign in again (${account.state.reason}); run codex-pool login`,
    account.state.reason,
  );
}

function sameTokens(a: Tokens, b: Tokens): boolean {
  return a.refreshToken === b.refreshToken && a.accessToken === b.accessToken;
}

export class TokenRefresher {
  private readonly opts: Required<Omit<TokenRefresherOptions, "clock">> & { clock: Clock };
  private readonly inFlight = new Map<string, Promise<Account>>();

  constructor(options: TokenRefresherOptions) {
    this.opts = {
      ...options,
      clock: options.clock ?? systemClock,
      lockStaleMs: options.lockStaleMs ?? 30_000,
      leaseWaitMs: options.leaseWaitMs ?? 60_000,
    };
  }

  /** True when the access token stays valid for more than the skew. */
  isFresh(tokens: Tokens): boolean {
    const now = this.opts.clock.now();
    const expiresAt =
      tokens.accessTokenExpiresAt !== null
        ? Date.parse(tokens.accessTokenExpiresAt)
        : (tokenExpiry(tokens.accessToken)?.getTime() ?? null);
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
    const account = this.find(pool, accountRef);
    const blocked = needsLogin(pool, account);
    if (blocked) throw blocked;
    if (!options.force && this.isFresh(account.tokens)) return account;
    const running = this.inFlight.get(account.id);
    if (running) return running;
    const name = accountName(pool, account);
    const refresh = this.refreshUnderLease(account, name, options).finally(() => {
      this.inFlight.delete(account.id);
    });
    this.inFlight.set(account.id, refresh);
    return refresh;
  }

  private find(pool: Pool, id: string): Account {
    const account = pool.accounts.find((a) => a.id === id);
    if (!account) {
      throw new AccountNotFoundError(`no account ${id} in the pool (see codex-pool list)`);
    }
    return account;
  }

  private async refreshUnderLease(
    seen: Account,
    name: string,
    options: { force?: boolean; signal?: AbortSignal },
  ): Promise<Account> {
    const { store, leasesDir, clock } = this.opts;
    await ensurePrivateDir(leasesDir);
    return withLock(
      path.join(leasesDir, `${seen.id}.lock`),
      {
        waitMs: this.opts.leaseWaitMs,
        staleMs: this.opts.lockStaleMs,
        purpose: "refresh lease",
        what: `the token refresh of ${name}`,
        clock,
        ...(options.signal ? { signal: options.signal } : {}),
      },
      async () => {
        // Re-read under the lease: another process may have refreshed while we waited.
        const pool = await store.read();
        const current = this.find(pool, seen.id);
        const blocked = needsLogin(pool, current);
        if (blocked) throw blocked;
        if (!sameTokens(current.tokens, seen.tokens)) return current;
        if (!options.force && this.isFresh(current.tokens)) return current;
        return this.spend(current, options.signal);
      },
    );
  }

  /** Spends the refresh token and records the outcome; called only while holding the lease. */
  private async spend(account: Account, signal: AbortSignal | undefined): Promise<Account> {
    const { store, clock } = this.opts;
    const spent = account.tokens.refreshToken;
    try {
      const grant = await refreshGrant(spent, {
        authUrl: this.opts.authUrl,
        fetch: this.opts.fetch,
        ...(signal ? { signal } : {}),
      });
      const now = new Date(clock.now());
      return await store.transact((pool) => {
        const row = this.find(pool, account.id);
        // Someone replaced the tokens meanwhile (a new login, tokens adopted from codex): theirs stay.
        if (row.tokens.refreshToken !== spent) return structuredClone(row);
        row.tokens = tokensFromGrant(grant, now, row.tokens);
        return structuredClone(row);
      });
    } catch (error) {
      if (!(error instanceof NeedsLoginError)) throw error;
      const since = new Date(clock.now()).toISOString();
      let name = accountName({ accounts: [] }, account);
      const replaced = await store.transact((pool) => {
        name = accountName(pool, account);
        const row = pool.accounts.find((a) => a.id === account.id);
        if (!row || row.tokens.refreshToken !== spent) return row ? structuredClone(row) : null;
        row.state = { kind: "needs-login", reason: error.reason, since };
        return null;
      });
      if (replaced !== null && this.isFresh(replaced.tokens)) return replaced;
      throw new NeedsLoginError(
        `${name} needs to sign in again (${error.reason}); run codex-pool login`,
        error.reason,
        { cause: error },
      );
    }
  }
}
