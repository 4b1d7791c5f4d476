/**
 * Waiting out an exhausted pool (docs/decisions.md decision 7): sleep until the earliest reset on
 * the clock's timers, calling `tick` about once a second so the CLI can rewrite one countdown line,
 * and stop at once when the signal aborts (Ctrl+C). The core prints nothing itself: rendering is
 * the caller's.
 */
import type { Clock, Timer } from "../platform/clock.js";
import { CancelledError } from "../platform/errors.js";
import { formatClock } from "../platform/time-text.js";
import type { Exhaustion } from "./machine.js";

export interface WaitOptions {
  readonly until: number;
  readonly clock: Clock;
  readonly signal: AbortSignal;
  /** Called at the start and then every `tickMs` with the time left. */
  readonly tick?: (remainingMs: number) => void;
  readonly tickMs?: number;
}

export function waitUntil(options: WaitOptions): Promise<void> {
  const { until, clock, signal, tick } = options;
  const tickMs = options.tickMs ?? 1000;
  return new Promise((resolve, reject) => {
    let timer: Timer | undefined;
    const onAbort = (): void => {
      timer?.cancel();
      reject(new CancelledError("stopped waiting for a reset"));
    };
    if (signal.aborted) {
      onAbort();
      return;
    }
    signal.addEventListener("abort", onAbort, { once: true });
    const step = (): void => {
      const remaining = until - clock.now();
      if (remaining <= 0) {
        signal.removeEventListener("abort", onAbort);
        resolve();
        return;
      }
      tick?.(remaining);
      timer = clock.setTimer(step, Math.min(tickMs, remaining));
    };
    step();
  });
}

/**
 * "every account is out: #1 alice@… (5h) resets 14:05, #2 bob@… (spend cap) resets Jan 1 00:00":
 * each account with what holds it (a window by its kind, or an allowance) and when that lifts.
 */
export function describeExhaustion(exhaustion: Exhaustion, now: number): string {
  if (exhaustion.resets.length === 0) return "no account in the pool is usable";
  const parts = exhaustion.resets.map((r) => {
    const what = r.what ? ` (${r.what})` : "";
    const when =
      r.resetsAt === null ? "(reset time unknown)" : `resets ${formatClock(r.resetsAt, now)}`;
    return `${r.account.label}${what} ${when}`;
  });
  return `every account is out: ${parts.join(", ")}`;
}
