/**
 * Single quota windows and allowances: their kind and label, percent left, reset, and whether the
 * numbers are stale. A window whose reset time has passed is never exhausted — its numbers describe
 * a spent period, the quota has refilled, and the account must be re-checked. How a whole snapshot
 * is judged (floors, blocking, the bottleneck) is src/quota/verdict.ts.
 */
import type { Allowance, AllowanceKind, QuotaSnapshot, QuotaWindow } from "../pool/schema.js";
import { kindOfMinutes } from "./window-kind.js";

export type { WindowKind } from "./window-kind.js";

export function makeWindow(
  windowMinutes: number | null,
  usedPercent: number,
  resetsAt: Date | null,
): QuotaWindow {
  return {
    kind: kindOfMinutes(windowMinutes),
    windowMinutes,
    usedPercent,
    resetsAt: resetsAt === null ? null : resetsAt.toISOString(),
  };
}

/** A short name for a window: "5h", "weekly", "30d", else its length ("90m", "2h", "3d", "window"). */
export function windowLabel(window: Pick<QuotaWindow, "kind" | "windowMinutes">): string {
  if (window.kind !== "other") return window.kind;
  const m = window.windowMinutes;
  if (m === null) return "window";
  if (m % 1440 === 0) return `${m / 1440}d`;
  if (m % 60 === 0) return `${m / 60}h`;
  return `${m}m`;
}

const ALLOWANCE_LABELS = {
  "spend-cap": "spend cap",
  "credit-limit": "credit limit",
} as const satisfies Record<AllowanceKind, string>;

export function allowanceLabel(allowance: Pick<Allowance, "kind">): string {
  return ALLOWANCE_LABELS[allowance.kind];
}

/** Percent left as reported, 0–100. */
export function leftPercent(window: Pick<QuotaWindow, "usedPercent">): number {
  return Math.max(0, Math.min(100, 100 - window.usedPercent));
}

/** An allowance's percent left (0–100), or null when the answer gave no percent. */
export function allowanceLeftPercent(allowance: Pick<Allowance, "usedPercent">): number | null {
  return allowance.usedPercent === null
    ? null
    : Math.max(0, Math.min(100, 100 - allowance.usedPercent));
}

export function resetTime(window: Pick<QuotaWindow, "resetsAt">): Date | null {
  return window.resetsAt === null ? null : new Date(window.resetsAt);
}

/** True when the reset time has passed: the numbers describe a spent period. */
export function hasReset(window: Pick<QuotaWindow, "resetsAt">, now: Date): boolean {
  const reset = resetTime(window);
  return reset !== null && reset.getTime() <= now.getTime();
}

/** Percent left as it stands now: a window past its reset counts as refilled (to be re-checked). */
export function effectiveLeft(window: QuotaWindow, now: Date): number {
  return hasReset(window, now) ? 100 : leftPercent(window);
}

/** The same for an allowance: past its reset it is refilled; null when its percent is unknown. */
export function allowanceEffectiveLeft(allowance: Allowance, now: Date): number | null {
  if (hasReset(allowance, now)) return 100;
  if (allowance.reached) return 0;
  return allowanceLeftPercent(allowance);
}

/** Fully used and not yet reset. */
export function isWindowExhaustedNow(window: QuotaWindow, now: Date): boolean {
  return effectiveLeft(window, now) <= 0;
}

/**
 * When a snapshot's reached limit (a 429, `limit_reached`) lifts: its own reset time, else the
 * latest reset among what is used up (full windows, reached allowances — the usage API sets
 * `limit_reached` alongside them, and a used-up weekly window binds even while the 5-hour one is
 * nearly empty, docs/chatgpt-backend.md §3.1), else the earliest window reset (something changes
 * then); null when nothing says.
 */
export function limitLiftsAt(snapshot: QuotaSnapshot): Date | null {
  if (snapshot.limitResetsAt) return new Date(snapshot.limitResetsAt);
  let latestFull: Date | null = null;
  let earliest: Date | null = null;
  const spent = [
    ...snapshot.windows.map((w) => ({ reset: resetTime(w), full: w.usedPercent >= 100 })),
    ...(snapshot.allowances ?? []).map((a) => ({ reset: resetTime(a), full: a.reached })),
  ];
  for (const { reset, full } of spent) {
    if (reset === null) continue;
    if (full && (latestFull === null || reset > latestFull)) latestFull = reset;
    if (earliest === null || reset < earliest) earliest = reset;
  }
  return latestFull ?? earliest;
}

/** The snapshot's "limit reached" flag, still in force at `now`. */
export function isLimitInForce(snapshot: QuotaSnapshot, now: Date): boolean {
  if (!snapshot.limitReached) return false;
  const lifts = limitLiftsAt(snapshot);
  return lifts === null || lifts.getTime() > now.getTime();
}

/** True when some reset time in the snapshot has passed since it was observed: re-check it. */
export function hasStaleReset(snapshot: QuotaSnapshot, now: Date): boolean {
  if (snapshot.windows.some((w) => hasReset(w, now))) return true;
  if ((snapshot.allowances ?? []).some((a) => hasReset(a, now))) return true;
  return (
    snapshot.limitReached &&
    snapshot.limitResetsAt != null &&
    new Date(snapshot.limitResetsAt).getTime() <= now.getTime()
  );
}
