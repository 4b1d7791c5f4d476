/**
 * Waiting out an exhausted pool (docs/decisions.md decision 7): sleep until the earliest reset on
 * the clock's timers, calling `tick` about once a second so the CLI can rewrite one countdown line,
 * and stop at once when the signal aborts (Ctrl+C). The core prints nothing itself: rendering is
 * the caller's. `waitOutExhaustion` is the session's wait (the runner's `wait` effect): the same
 * countdown, ended early once another machine's change makes an account usable
 * (usable-again.ts, docs/team-pool.md "Changes across machines").
 */
import type { Clock, Timer } from "../platform/clock.js";
import { CancelledError } from "../platform/errors.js";
import { formatClock } from "../platform/time-text.js";
import type { Exhaustion } from "./machine.js";
import type { SessionOutput, SessionPorts } from "./session-ports.js";

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

/** What the session's wait uses: the runner's ports. */
export type ResetWaitPorts = Pick<SessionPorts, "clock" | "usableAgain"> & {
  readonly output: Pick<SessionOutput, "countdown">;
};

/**
 * Waits until `until` (the earliest reset), or until the pool shows a usable account: the
 * selection then looks again either way (true). false: `cancel` aborted (the session moved on).
 * The countdown is cleared in every case.
 */
export async function waitOutExhaustion(
  ports: ResetWaitPorts,
  wait: { readonly until: number; readonly exhaustion: Exhaustion },
  cancel: AbortSignal,
): Promise<boolean> {
  const { until, exhaustion } = wait;
  const over = new AbortController();
  const signal = AbortSignal.any([cancel, over.signal]);
  // A watch that fails loses nothing: the wait still ends at the reset.
  void ports.usableAgain(signal).then(
    () => over.abort(),
    () => undefined,
  );
  try {
    await waitUntil({
      until,
      clock: ports.clock,
      signal,
      tick: (ms) => ports.output.countdown(ms, exhaustion),
    });
  } catch (error) {
    if (!(error instanceof CancelledError)) throw error;
    if (cancel.aborted) return false;
  } finally {
    over.abort();
    ports.output.countdown(null, exhaustion);
  }
  return true;
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
