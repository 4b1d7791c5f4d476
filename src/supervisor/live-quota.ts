/**
 * The quota of the account a live session's app-server holds (live-account.ts), as codex reports
 * it (docs/codex-app-server.md §3) and as the pool checks it between reports.
 *
 * `account/rateLimits/updated` is sparse, so each update is laid over the last picture of the same
 * account before it is parsed (src/quota/parse-rate-limits.ts). As with the rollout (watch.ts), a
 * reading is stored once it has settled for QUOTA_SETTLE_MS (each store is a pool transaction),
 * and a limit hit is stored at once, marked reached, so the switch that follows judges the pool
 * with it. A timer re-checks /wham/usage every quotaPollSeconds in case no turn says.
 */
import type { AppServerRateLimits } from "../app-server/messages.js";
import type { Clock, Timer } from "../platform/clock.js";
import { errorMessage } from "../platform/errors.js";
import type { QuotaSnapshot } from "../pool/schema.js";
import { QuotaParseError } from "../quota/fields.js";
import { mergeAppServerRateLimits, parseAppServerRateLimits } from "../quota/parse-rate-limits.js";
import type { AccountRef } from "./machine.js";
import { QUOTA_SETTLE_MS, SettlingReading } from "./quota-settle.js";
import type { WatchEvent } from "./watch.js";

export interface LiveQuotaDeps {
  readonly clock: Clock;
  readonly quotaPollMs: number;
  /** Stores a quota observation of an account and returns the pressure it puts on it. */
  observe(accountId: string, snapshot: QuotaSnapshot): Promise<WatchEvent | null>;
  /** The account's /wham/usage now. */
  probe(accountId: string, signal: AbortSignal): Promise<QuotaSnapshot | null>;
  /** A pressure the quota puts on the account. */
  onPressure(event: WatchEvent): void;
  /** Something the user should hear of after codex exits (said once). */
  warn(line: string): void;
}

export class LiveQuota {
  /** The account whose quota this is (the one the app-server holds). */
  private who: AccountRef | null = null;
  private rateLimits: unknown = null;
  private pollTimer: Timer | null = null;
  /** The account whose reading waits to settle before it is stored (a later one replaces it). */
  private readonly settling: SettlingReading<AccountRef>;
  private stopped = false;
  private readonly stopping = new AbortController();
  private readonly deps: LiveQuotaDeps;

  constructor(deps: LiveQuotaDeps) {
    this.deps = deps;
    this.settling = new SettlingReading(deps.clock, QUOTA_SETTLE_MS, (who) => {
      void this.observe(this.snapshot(false), who);
    });
  }

  /** The app-server holds `ref` from now on: its readings are `ref`'s, and it is polled. */
  follow(ref: AccountRef): void {
    if (this.who?.id !== ref.id) {
      // The previous account's reading is stored as it stands; then another account's picture.
      const held = this.settling.take();
      if (held !== null) void this.observe(this.snapshot(false), held.value);
      this.rateLimits = null;
    }
    this.who = ref;
    if (this.pollTimer === null) this.poll();
  }

  /** A rate-limit update of the running account: stored once no newer one follows for a while. */
  rateLimitsUpdated(update: AppServerRateLimits): void {
    this.rateLimits = mergeAppServerRateLimits(this.rateLimits, update);
    if (this.who !== null) this.settling.offer(this.who);
  }

  /**
   * The running account's turn failed on its usage limit: its last picture, marked reached, is
   * stored now (the reading waiting to settle is part of it). Settles once stored.
   */
  limitHit(): Promise<void> {
    this.settling.take();
    return this.observe(this.snapshot(true));
  }

  /** Stores the reading waiting to settle now (codex ended: no later one will come). */
  flush(): Promise<void> {
    const held = this.settling.take();
    return held === null ? Promise.resolve() : this.observe(this.snapshot(false), held.value);
  }

  stop(): void {
    this.stopped = true;
    this.stopping.abort();
    this.pollTimer?.cancel();
    this.settling.take();
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
    who: AccountRef | null = this.who,
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
        const who = this.who;
        if (this.stopped) return;
        if (who !== null) {
          this.deps
            // Bounded by the probe timeout where probes are made (session-quota.ts); cut short
            // when the session stops.
            .probe(who.id, this.stopping.signal)
            .then((snapshot) => this.observe(snapshot, who))
            .catch(() => undefined); // a probe that fails says nothing new; the next one asks
        }
        this.poll();
      },
      this.deps.quotaPollMs,
      { weak: true },
    );
  }
}
