/**
 * Quota readings held until they settle, before they are stored (docs/supervisor.md: the
 * rollout's token_count and the app-server's `account/rateLimits/updated` both come several to a
 * turn). Each store is a pool transaction, and a limit stored right after a reading would wait
 * behind it while the switch waits on both; so a reading waits QUOTA_SETTLE_MS for a later one,
 * the latest winning, and a limit (or the end of codex) takes the held one at once. Apart from
 * watch.ts because the rule is the same for both sources: live-account.ts keeps the same period.
 */
import type { Clock, Timer } from "../platform/clock.js";

/** How long a quota reading waits for a later one before it is stored. */
export const QUOTA_SETTLE_MS = 250;

/** One reading at a time, handed to `store` once no newer one came within the period. */
export class SettlingReading<T> {
  private held: { value: T; timer: Timer } | null = null;
  private readonly clock: Pick<Clock, "setTimer">;
  private readonly ms: number;
  private readonly store: (value: T) => void;

  constructor(clock: Pick<Clock, "setTimer">, ms: number, store: (value: T) => void) {
    this.clock = clock;
    this.ms = ms;
    this.store = store;
  }

  /** Holds `value`; a reading already held is replaced, and its period goes on (bounded). */
  offer(value: T): void {
    if (this.held !== null) {
      this.held.value = value;
      return;
    }
    const entry: { value: T; timer: Timer } = {
      value,
      timer: this.clock.setTimer(
        () => {
          if (this.held !== entry) return;
          this.held = null;
          this.store(entry.value);
        },
        this.ms,
        { weak: true },
      ),
    };
    this.held = entry;
  }

  /** Takes the held reading away (superseded, or to be stored now); null when none is held. */
  take(): { value: T } | null {
    const entry = this.held;
    if (entry === null) return null;
    entry.timer.cancel();
    this.held = null;
    return { value: entry.value };
  }
}
