/**
 * Waiting out an exhausted pool (PRODUCT.md decision 7): sleep until the earliest reset, calling
 * `tick` about once a second so the CLI can rewrite one countdown line, and stop at once when the
 * signal aborts (Ctrl+C). The core prints nothing itself: rendering is the caller's.
 */
import type { Clock } from "../platform/clock.js";
import { CancelledError } from "../platform/errors.js";
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
    let timer: NodeJS.Timeout | undefined;
    const onAbort = (): void => {
      clearTimeout(timer);
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
      timer = setTimeout(step, Math.min(tickMs, remaining));
    };
    step();
  });
}

/** "1h 02m 03s", "4m 05s", "9s". */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const pad = (n: number): string => String(n).padStart(2, "0");
  if (h > 0) return `${h}h ${pad(m)}m ${pad(s)}s`;
  if (m > 0) return `${m}m ${pad(s)}s`;
  return `${s}s`;
}

/** Local wall-clock time, "14:05" today or "Tue 14:05" on another day. */
/** Short English weekday names, as toLocaleDateString("en-US", { weekday: "short" }) gives them. */
const WEEKDAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"] as const;

export function formatClock(epochMs: number, now: number): string {
  const d = new Date(epochMs);
  const hm = `${String(d.getHours()).padStart(2, "0")}:${String(d.getMinutes()).padStart(2, "0")}`;
  if (new Date(now).toDateString() === d.toDateString()) return hm;
  // Not Intl: its first use loads locale data (~17 ms), and the switch line waits on this.
  return `${WEEKDAYS[d.getDay()] ?? ""} ${hm}`;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const SIX_DAYS_MS = 6 * 86_400_000;

/** formatClock, with the date for a reset a week or more away (a 30-day window, a monthly cap). */
function resetWhen(epochMs: number, now: number): string {
  if (Math.abs(epochMs - now) < SIX_DAYS_MS) return formatClock(epochMs, now);
  const d = new Date(epochMs);
  const hm = `${String(d.getHours()).padStart(2, "0")}:${String(d.getMinutes()).padStart(2, "0")}`;
  return `${MONTHS[d.getMonth()] ?? ""} ${d.getDate()} ${hm}`;
}

/**
 * "every account is out: alice@… (5h) resets 14:05, bob@… (spend cap) resets Jan 1 00:00": each
 * account with what holds it (a window by its kind, or an allowance) and when that lifts.
 */
export function describeExhaustion(exhaustion: Exhaustion, now: number): string {
  if (exhaustion.resets.length === 0) return "no account in the pool is usable";
  const parts = exhaustion.resets.map((r) => {
    const what = r.what ? ` (${r.what})` : "";
    const when =
      r.resetsAt === null ? "(reset time unknown)" : `resets ${resetWhen(r.resetsAt, now)}`;
    return `${r.account.label}${what} ${when}`;
  });
  return `every account is out: ${parts.join(", ")}`;
}
