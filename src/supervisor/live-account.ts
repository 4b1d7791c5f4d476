/**
 * The account a live session's app-server holds (live.ts): which one it is, the access token
 * handed to codex, the pool's refresh of it (live-tokens.ts, docs/decisions.md decision 11) and
 * its quota as codex reports it (docs/codex-app-server.md §3).
 *
 * - Tokens: the token handed over is replaced between turns ahead of its expiry, so codex never
 *   meets a 401; codex's refresh request after one is answered with the same account refreshed,
 *   or, when that account can no longer sign in, with the next one (`onReplaced`).
 * - Switching: `moveTo` logs the next account in between turns. A login is about half of a live
 *   switch (docs/codex-app-server.md §8), so a switch's candidate may be logged in ahead
 *   (`loginAhead`, while the selection claims it): `moveTo` then finds it done, and `abandonAhead`
 *   gives the session its account back when no move follows.
 * - Quota: what codex reports of the account held, and the pool's checks of it between reports
 *   (live-quota.ts).
 */
import type { LiveController } from "../app-server/controller.js";
import { TurnRunningError } from "../app-server/errors.js";
import type { AppServerRateLimits, SuppliedAccount } from "../app-server/messages.js";
import type { Timer } from "../platform/clock.js";
import {
  AccountNotFoundError,
  CancelledError,
  errorMessage,
  NeedsLoginError,
} from "../platform/errors.js";
import { LiveQuota, type LiveQuotaDeps } from "./live-quota.js";
import { refreshDueAt, supplyAccount, type LiveTokenDeps, type Supplied } from "./live-tokens.js";
import type { AccountRef } from "./machine.js";
import { RefreshTokenHeldError } from "../pool/live-sessions.js";

/** Codex waits 10 s for a refresh answer (docs/codex-app-server.md §3): ours must come sooner. */
const REFRESH_ANSWER_MS = 8_000;
/** A timer further out is set in steps (a JavaScript timer fires at once past ~24.8 days). */
const LONGEST_TIMER_MS = 24 * 3600_000;

export interface LiveAccountDeps extends LiveQuotaDeps {
  readonly tokens: LiveTokenDeps;
  readonly refreshSkewMs: number;
  /** The controller of the running app-server (throws when it is gone). */
  controller(): LiveController;
  /** Chooses and claims the next account when the running one can no longer sign in. */
  replacement(exclude: readonly string[], signal: AbortSignal): Promise<AccountRef | null>;
  /** The session now runs on `account`: codex's refresh request was answered with it. */
  onReplaced(account: AccountRef): void;
}

export class LiveAccount {
  private ref: AccountRef | null = null;
  private handed: string | null = null;
  private refreshTimer: Timer | null = null;
  private readonly quota: LiveQuota;
  /**
   * A login ahead of a move: to whom, what it handed over (null: it did not happen), and the
   * account the session ran on before it.
   */
  private ahead: { id: string; done: Promise<Supplied | null>; before: AccountRef | null } | null =
    null;
  private stopped = false;
  private readonly deps: LiveAccountDeps;

  constructor(deps: LiveAccountDeps) {
    this.deps = deps;
    this.quota = new LiveQuota(deps);
  }

  /** The account the app-server holds, or gets when the next client attaches. */
  get current(): AccountRef | null {
    return this.ref;
  }

  /** The tokens to hand codex for `ref`, refreshed by the pool first when due. */
  supply(ref: AccountRef, replacing?: string): Promise<Supplied> {
    return supplyAccount(this.deps.tokens, ref.id, {
      ...(replacing !== undefined ? { replacing } : {}),
      signal: AbortSignal.timeout(REFRESH_ANSWER_MS),
    });
  }

  /** `ref` was handed to the app-server with `supplied` (logged in, or kept for the next attach). */
  holds(ref: AccountRef, supplied: Supplied): void {
    this.quota.follow(ref);
    this.ref = ref;
    this.handed = supplied.supplied.accessToken;
    this.scheduleRefresh(supplied);
  }

  /** Logs `supplied` in between turns, waiting for every turn to end (never during one, §3). */
  async loginBetweenTurns(supplied: SuppliedAccount, signal?: AbortSignal): Promise<void> {
    const controller = this.deps.controller();
    for (;;) {
      await abortable(controller.idle(), signal);
      try {
        await controller.login(supplied);
        return;
      } catch (error) {
        // A turn started between our check and the login: wait for it to end too.
        if (!(error instanceof TurnRunningError)) throw error;
      }
    }
  }

  /**
   * Logs `ref` in ahead of a move, between turns only (nothing happens while a turn runs; a turn
   * that starts meanwhile makes the login refused, not sent, and the move then does it).
   */
  loginAhead(ref: AccountRef): void {
    const controller = this.deps.controller();
    if (controller.turnRunning() || this.ahead?.id === ref.id) return;
    const previous = this.ahead;
    const done = (previous?.done ?? Promise.resolve(null))
      .then(async () => {
        const supplied = await this.supply(ref);
        await controller.login(supplied.supplied);
        // Codex asks the new account's quota at once: from now on what it reports is `ref`'s.
        this.holds(ref, supplied);
        return supplied;
      })
      .catch(() => null); // the move does it in order, and says what failed
    this.ahead = { id: ref.id, done, before: previous?.before ?? this.ref };
  }

  /** The session moves to `to` (no turn runs): logged in now, unless a login ahead did it. */
  async moveTo(to: AccountRef, signal?: AbortSignal): Promise<void> {
    const ahead = this.ahead;
    this.ahead = null;
    // A login ahead (for `to` or another candidate) settles first: one login at a time.
    const done = ahead === null ? null : await ahead.done;
    if (ahead?.id === to.id && done !== null) return;
    const supplied = await this.supply(to);
    await this.loginBetweenTurns(supplied.supplied, signal);
    this.holds(to, supplied);
  }

  /** No move follows a login ahead: the account the session ran on is logged back in. */
  async abandonAhead(): Promise<void> {
    const ahead = this.ahead;
    this.ahead = null;
    if (ahead === null || (await ahead.done) === null) return;
    const back = ahead.before;
    if (back === null || back.id === this.ref?.id || this.stopped) return;
    try {
      const supplied = await this.supply(back);
      await this.loginBetweenTurns(supplied.supplied);
      this.holds(back, supplied);
    } catch (error) {
      this.deps.warn(`logging ${back.label} back in: ${errorMessage(error)}`);
    }
  }

  /** Codex's refresh request after a 401 (docs/codex-app-server.md §3), within its 10 s. */
  async answerRefresh(): Promise<SuppliedAccount> {
    const current = this.ref;
    if (current === null) throw new Error("no account is running");
    try {
      const fresh = await this.supply(current, this.handed ?? undefined);
      this.holds(current, fresh);
      return fresh.supplied;
    } catch (error) {
      const gone =
        error instanceof NeedsLoginError ||
        error instanceof RefreshTokenHeldError ||
        error instanceof AccountNotFoundError;
      if (!gone) throw error; // codex asks again (about every 10 s, §8)
      const next = await this.deps.replacement(
        [current.id],
        AbortSignal.timeout(REFRESH_ANSWER_MS),
      );
      if (next === null) throw error;
      const supplied = await this.supply(next);
      this.holds(next, supplied);
      this.deps.warn(
        `${current.label} could not sign in again (${errorMessage(error)}); codex went on with ${next.label}`,
      );
      this.deps.onReplaced(next);
      return supplied.supplied;
    }
  }

  /** A rate-limit update of the running account (live-quota.ts). */
  rateLimitsUpdated(update: AppServerRateLimits): void {
    this.quota.rateLimitsUpdated(update);
  }

  /** The running account's turn failed on its usage limit: stored now, marked reached. */
  limitHit(): Promise<void> {
    return this.quota.limitHit();
  }

  /** Stores the reading waiting to settle now (codex ended: no later one will come). */
  flush(): Promise<void> {
    return this.quota.flush();
  }

  stop(): void {
    this.stopped = true;
    this.refreshTimer?.cancel();
    this.quota.stop();
  }

  private scheduleRefresh(supplied: Supplied): void {
    this.refreshTimer?.cancel();
    const { clock } = this.deps;
    const due = refreshDueAt(supplied.account.tokens, clock.now(), this.deps.refreshSkewMs);
    const ref = this.ref;
    if (due === null || ref === null) return;
    this.refreshTimer = clock.setTimer(
      () => {
        if (this.stopped || this.ref?.id !== ref.id) return;
        if (clock.now() < due) {
          this.scheduleRefresh(supplied); // a long wait, set in steps
          return;
        }
        // Refreshed by the pool, logged in between turns: codex never meets the expiry (§3).
        this.supply(ref)
          .then(async (fresh) => {
            if (this.stopped || this.ref?.id !== ref.id) return;
            await this.loginBetweenTurns(fresh.supplied);
            this.holds(ref, fresh);
          })
          .catch((error: unknown) => {
            // Codex asks for fresh tokens itself once this one is refused: answered then.
            this.deps.warn(`renewing ${ref.label}'s access token: ${errorMessage(error)}`);
          });
      },
      Math.min(LONGEST_TIMER_MS, Math.max(0, due - clock.now())),
      { weak: true },
    );
  }
}

/** `promise`, or a rejection with CancelledError when `signal` aborts first. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  const cancelled = (): CancelledError => new CancelledError("stopped before codex started");
  if (signal.aborted) return Promise.reject(cancelled());
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(cancelled());
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
