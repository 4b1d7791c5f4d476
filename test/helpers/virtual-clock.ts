/**
 * A clock whose time moves only when a test moves it. Timers fire in order of their due time (then
 * of their creation); after each one the promise chains it started are let run, so code that
 * waits on the clock (sleeps, grace periods, countdowns) is driven step by step, with no wall
 * clock anywhere.
 */
import { sleepWith, type Clock, type Timer } from "../../src/platform/clock.js";

interface Pending {
  readonly at: number;
  readonly seq: number;
  readonly fn: () => void;
  cancelled: boolean;
}

/** Lets every promise chain that is ready run (a few macrotask turns). */
export async function settle(rounds = 8): Promise<void> {
  for (let i = 0; i < rounds; i += 1) await new Promise<void>((r) => setImmediate(r));
}

export class VirtualClock implements Clock {
  private time: number;
  private seq = 0;
  private timers: Pending[] = [];

  constructor(start = Date.parse("2026-06-01T12:00:00Z")) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  setTimer(fn: () => void, ms: number): Timer {
    const timer: Pending = {
      at: this.time + Math.max(0, ms),
      seq: this.seq++,
      fn,
      cancelled: false,
    };
    this.timers.push(timer);
    return {
      cancel: () => {
        timer.cancelled = true;
      },
    };
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return sleepWith((fn, delay) => this.setTimer(fn, delay), ms, signal);
  }

  /** Timers that have not fired or been cancelled. */
  get pending(): number {
    return this.timers.filter((t) => !t.cancelled).length;
  }

  private next(): Pending | undefined {
    this.timers = this.timers.filter((t) => !t.cancelled);
    return [...this.timers].sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
  }

  /** Moves time forward by `ms`, firing every timer due on the way. */
  async advance(ms: number): Promise<void> {
    const target = this.time + ms;
    await settle();
    for (;;) {
      const timer = this.next();
      if (timer === undefined || timer.at > target) break;
      this.timers = this.timers.filter((t) => t !== timer);
      this.time = Math.max(this.time, timer.at);
      timer.fn();
      await settle();
    }
    this.time = target;
    await settle();
  }

  /**
   * Fires timers one by one until `done()` holds; fails once `limitMs` of virtual time has passed
   * without it (a test that would otherwise hang says what it waited for).
   */
  async until(what: string, done: () => boolean, limitMs = 24 * 3600_000): Promise<void> {
    const limit = this.time + limitMs;
    await settle();
    while (!done()) {
      const timer = this.next();
      if (timer === undefined || timer.at > limit) {
        throw new Error(`virtual clock: ${what} did not happen (no timer left before the limit)`);
      }
      this.timers = this.timers.filter((t) => t !== timer);
      this.time = Math.max(this.time, timer.at);
      timer.fn();
      await settle();
    }
  }
}

/** A clock that only tells the time `now()` gives: the code under test must not wait on it. */
export function clockAt(now: () => number): Clock {
  const refuse = (): never => {
    throw new Error("this test's clock only tells the time; the code under test waited on it");
  };
  return { now, setTimer: refuse, sleep: refuse };
}
