/**
 * Time as a parameter, so the core can be driven by tests without globals: the current time, and
 * every wait (timers, sleeps). Tests pass a virtual clock (test/helpers/virtual-clock.ts) and move
 * time forward themselves; nothing in the core calls setTimeout or Date.now() directly where it
 * waits (docs/style.md: clock, env, spawn and fetch are parameters).
 */
export interface Timer {
  /** Stops the timer; harmless once it has fired. */
  cancel(): void;
}

export interface TimerOptions {
  /** The timer alone does not keep the process alive (a heartbeat, a settle delay). */
  readonly weak?: boolean;
}

export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
  /** Calls `fn` once, `ms` from now. */
  setTimer(fn: () => void, ms: number, options?: TimerOptions): Timer;
  /**
   * Settles `ms` from now; rejects at once when `signal` aborts (with its reason when that is an
   * Error).
   */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

function abortError(signal: AbortSignal | undefined): Error {
  return signal?.reason instanceof Error ? signal.reason : new Error("aborted");
}

/** `sleep` built on a clock's timers (the system clock and virtual clocks share it). */
export function sleepWith(
  setTimer: Clock["setTimer"],
  ms: number,
  signal?: AbortSignal,
): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortError(signal));
      return;
    }
    const onAbort = (): void => {
      timer.cancel();
      reject(abortError(signal));
    };
    const timer = setTimer(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

function systemTimer(fn: () => void, ms: number, options?: TimerOptions): Timer {
  const handle = setTimeout(fn, Math.max(0, ms));
  if (options?.weak === true) handle.unref();
  return { cancel: () => clearTimeout(handle) };
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer: systemTimer,
  sleep: (ms, signal) => sleepWith(systemTimer, ms, signal),
};

/** The system clock's sleep, for code that takes no clock. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return systemClock.sleep(ms, signal);
}
