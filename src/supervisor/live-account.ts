/**
 * The account a live session's app-server holds (live.ts): which one it is, the access token
 * handed to codex, the pool's refresh of it (live-tokens.ts, docs/decisions.md decision 11) and
 * its quota as codex reports it (docs/codex-app-server.md §3).
 *
 * - Tokens: the token handed over is replaced between turns ahead of its expiry, so codex never
 *   meets a 401; codex's refresh request after one is answered with the same account refreshed,
 *   or, when that account can no longer sign in, with the next one (`onReplaced`).
 * - Switching: `moveTo` logs the next account in between turns. A login is most of a live switch
 *   (docs/codex-app-server.md §9), so a switch's candidate may be logged in ahead (`loginAhead`,
 *   while the selection claims it): `moveTo` then finds it done, and `abandonAhead` gives the
 *   session its account back when no move follows.
 * - Quota: `account/rateLimits/updated` is sparse, so each update is laid over the last picture of
 *   the same account before it is parsed (src/quota/parse-rate-limits.ts). As with the rollout
 *   (watch.ts), a reading is stored once it has settled for QUOTA_SETTLE_MS (each store is a pool
 *   transaction), and a limit hit is stored at once, marked reached, before the turn's end is
 *   reported, so the switch that follows judges the pool with it. A timer re-checks /wham/usage
 *   every quotaPollSeconds in case no turn says.
 */
import type { LiveController } from "../app-server/controller.js";
import { TurnRunningError } from "../app-server/errors.js";
import type { AppServerRateLimits, SuppliedAccount } from "../app-server/messages.js";
import type { Clock, Timer } from "../platform/clock.js";
import {
  AccountNotFoundError,
  CancelledError,
  errorMessage,
  NeedsLoginError,
} from "../platform/errors.js";
import type { QuotaSnapshot } from "../pool/schema.js";
import { QuotaParseError } from "../quota/fields.js";
import { mergeAppServerRateLimits, parseAppServerRateLimits } from "../quota/parse-rate-limits.js";
import {
  refreshDueAt,
  supplyAccount,
  TokensHeldError,
  type LiveTokenDeps,
  type Supplied,
} from "./live-tokens.js";
import type { AccountRef } from "./machine.js";
import { QUOTA_SETTLE_MS } from "./quota-settle.js";
import type { WatchEvent } from "./watch.js";

/** Codex waits 10 s for a refresh answer (docs/codex-app-server.md §3): ours must come sooner. */
export const REFRESH_ANSWER_MS = 8_000;
/** A timer further out is set in steps (a JavaScript timer fires at once past ~24.8 days). */
const LONGEST_TIMER_MS = 24 * 3600_000;

export interface LiveAccountDeps {
  readonly clock: Clock;
  readonly tokens: LiveTokenDeps;
  readonly refreshSkewMs: number;
  readonly quotaPollMs: number;
  readonly probeTimeoutMs: number;
  /** The controller of the running app-server (throws when it is gone). */
  controller(): LiveController;
  /** Stores a quota observation of an account and returns the pressure it puts on it. */
  observe(accountId: string, snapshot: QuotaSnapshot): Promise<WatchEvent | null>;
  /** The account's /wham/usage now. */
  probe(accountId: string, signal: AbortSignal): Promise<QuotaSnapshot | null>;
  /** Chooses and claims the next account when the running one can no longer sign in. */
  replacement(exclude: readonly string[], signal: AbortSignal): Promise<AccountRef | null>;
  /** A pressure the quota puts on the account. */
  onPressure(event: WatchEvent): void;
  /** The session now runs on `account`: codex's refresh request was answered with it. */
  onReplaced(account: AccountRef): void;
  /** Something the user should hear of after codex exits (said once). */
  warn(line: string): void;
}

export class LiveAccount {
  private ref: AccountRef | null = null;
  private handed: string | null = null;
  private rateLimits: unknown = null;
  private refreshTimer: Timer | null = null;
  private pollTimer: Timer | null = null;
  /** A reading waiting to settle before it is stored (a later one replaces it). */
  private settling: { timer: Timer; who: AccountRef } | null = null;
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
    if (this.ref?.id !== ref.id) this.rateLimits = null; // another account's picture
    this.ref = ref;
    this.handed = supplied.supplied.accessToken;
    this.scheduleRefresh(supplied);
    if (this.pollTimer === null) this.poll();
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
        error instanceof TokensHeldError ||
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

  /** A rate-limit update of the running account: stored once no newer one follows for a while. */
  rateLimitsUpdated(update: AppServerRateLimits): void {
    this.rateLimits = mergeAppServerRateLimits(this.rateLimits, update);
    const who = this.ref;
    if (who === null || this.settling !== null) return;
    const timer = this.deps.clock.setTimer(
      () => {
        if (this.settling?.timer !== timer) return;
        this.settling = null;
        void this.observe(this.snapshot(false), who);
      },
      QUOTA_SETTLE_MS,
      { weak: true },
    );
    this.settling = { timer, who };
  }

  /**
   * The running account's turn failed on its usage limit: its last picture, marked reached, is
   * stored now (the reading waiting to settle is part of it). Settles once stored.
   */
  limitHit(): Promise<void> {
    this.settling?.timer.cancel();
    this.settling = null;
    return this.observe(this.snapshot(true));
  }

  /** Stores the reading waiting to settle now (codex ended: no later one will come). */
  flush(): Promise<void> {
    const entry = this.settling;
    if (entry === null) return Promise.resolve();
    entry.timer.cancel();
    this.settling = null;
    return this.observe(this.snapshot(false), entry.who);
  }

  stop(): void {
    this.stopped = true;
    this.refreshTimer?.cancel();
    this.pollTimer?.cancel();
    this.settling?.timer.cancel();
    this.settling = null;
  }

  private snapshot(limitReached: boolean): QuotaSnapshot | null {
    try {
      const now = new Date(this.deps.clock.now());
      return parseAppServerRateLimits(this.rateLimits, now, { limitReached });
    } catch (error) {
      if (error instanceof QuotaParseError) return null; // the next reading says the same
      throw error;
    }
  }

  private async observe(
    snapshot: QuotaSnapshot | null,
    who: AccountRef | null = this.ref,
  ): Promise<void> {
    if (snapshot === null || who === null) return;
    try {
      const event = await this.deps.observe(who.id, snapshot);
      if (event !== null && !this.stopped) this.deps.onPressure(event);
    } catch (error) {
      this.deps.warn(`recording the session's quota: ${errorMessage(error)}`);
    }
  }

  private poll(): void {
    this.pollTimer = this.deps.clock.setTimer(
      () => {
        const who = this.ref;
        if (this.stopped) return;
        if (who !== null) {
          this.deps
            .probe(who.id, AbortSignal.timeout(this.deps.probeTimeoutMs))
            .then((snapshot) => this.observe(snapshot, who))
            .catch(() => undefined); // a probe that fails says nothing new; the next one asks
        }
        this.poll();
      },
      this.deps.quotaPollMs,
      { weak: true },
    );
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
