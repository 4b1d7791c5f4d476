/**
 * Refresh ownership for the file pool (one machine): a lease file `<leasesDir>/<acc id>.lock` held
 * for the whole refresh; under it the account is re-read, and if its tokens changed meanwhile
 * another process won the race and its result is adopted. The rotated tokens are committed in one
 * short pool transaction (the pool lock is never held across the HTTP call), and only if the pool
 * still holds the refresh token that was spent. Nothing is sent while the codex of a live session
 * of another process holds the token (src/pool/live-sessions.ts RefreshTokenHeldError). A dead lease holder is recovered at once (its pid
 * is gone), so the next waiter takes over (src/platform/lock.ts).
 */
import path from "node:path";
import { ensurePrivateDir } from "../platform/atomic-file.js";
import { systemClock, type Clock } from "../platform/clock.js";
import { NeedsLoginError } from "../platform/errors.js";
import { withLock } from "../platform/lock.js";
import {
  sameTokens,
  type RefreshCoordinator,
  type RefreshOutcome,
  type RefreshPlan,
} from "./refresh-coordinator.js";
import type { Account } from "./schema.js";
import type { PoolStore } from "./store.js";
import { accountName } from "./account-name.js";
import { assertRefreshable, thisProcess, type SessionIdentity } from "./live-sessions.js";
import { accountById } from "./accounts.js";

export interface FileRefreshOptions {
  store: PoolStore;
  leasesDir: string;
  clock?: Clock;
  /** The lease counts as abandoned when not renewed for this long (its owner renews it). */
  lockStaleMs?: number;
  /** How long to wait for another process's refresh of the same account. */
  leaseWaitMs?: number;
  /** One token request's bound. */
  sendTimeoutMs?: number;
  /** Who we are among live sessions: our own session's codex never bars our refresh. */
  me?: SessionIdentity;
}

export class FileRefreshCoordinator implements RefreshCoordinator {
  private readonly opts: Required<FileRefreshOptions>;

  constructor(options: FileRefreshOptions) {
    this.opts = {
      clock: systemClock,
      lockStaleMs: 30_000,
      leaseWaitMs: 60_000,
      sendTimeoutMs: 30_000,
      me: thisProcess(),
      ...options,
    };
  }

  async run(seen: Account, plan: RefreshPlan, signal?: AbortSignal): Promise<RefreshOutcome> {
    const { store, leasesDir, clock } = this.opts;
    await ensurePrivateDir(leasesDir);
    return withLock(
      path.join(leasesDir, `${seen.id}.lock`),
      {
        waitMs: this.opts.leaseWaitMs,
        staleMs: this.opts.lockStaleMs,
        purpose: "refresh lease",
        what: `the token refresh of ${accountName({ accounts: [] }, seen)}`,
        clock,
        ...(signal ? { signal } : {}),
      },
      async () => {
        // Re-read under the lease: another process may have refreshed while we waited.
        const pool = await store.read();
        const current = accountById(pool, seen.id);
        if (current.state.kind === "needs-login") {
          return { kind: "needs-login", reason: current.state.reason, replaced: null };
        }
        if (current.state.kind === "in-doubt") return { kind: "in-doubt", account: current };
        if (!sameTokens(current.tokens, seen.tokens) || !plan.needed(current)) {
          return { kind: "current", account: current };
        }
        // Right before the send: the codex of a live session elsewhere may hold this refresh
        // token (relaunch mode, docs/decisions.md decision 3); then it is that codex's to spend.
        assertRefreshable(pool, current, clock.now(), this.opts.me);
        return this.spend(current, plan, signal);
      },
    );
  }

  /** Spends the refresh token and records the outcome; called only while holding the lease. */
  private async spend(
    account: Account,
    plan: RefreshPlan,
    signal: AbortSignal | undefined,
  ): Promise<RefreshOutcome> {
    const { store, clock } = this.opts;
    const spent = account.tokens.refreshToken;
    try {
      const tokens = await plan.send(account, {
        timeoutMs: this.opts.sendTimeoutMs,
        ...(signal ? { signal } : {}),
      });
      return await store.transact((pool): RefreshOutcome => {
        const row = accountById(pool, account.id);
        // Someone replaced the tokens meanwhile (a new login, tokens adopted from codex): theirs stay.
        if (row.tokens.refreshToken !== spent)
          return { kind: "current", account: structuredClone(row) };
        row.tokens = tokens;
        return { kind: "refreshed", account: structuredClone(row) };
      });
    } catch (error) {
      if (!(error instanceof NeedsLoginError)) throw error;
      const since = new Date(clock.now()).toISOString();
      return store.transact((pool): RefreshOutcome => {
        const row = pool.accounts.find((a) => a.id === account.id);
        if (!row || row.tokens.refreshToken !== spent) {
          return {
            kind: "needs-login",
            reason: error.reason,
            replaced: row ? structuredClone(row) : null,
          };
        }
        row.state = { kind: "needs-login", reason: error.reason, since };
        return { kind: "needs-login", reason: error.reason, replaced: null };
      });
    }
  }
}
