/**
 * The quota window model: classification by length (never by slot), percent left, the bottleneck,
 * and whether a window or snapshot is exhausted *now*. A window whose reset time has passed is never
 * exhausted — its numbers are stale, the quota has refilled, and the account must be re-checked.
 */
import type { QuotaSnapshot, QuotaWindow } from "../pool/schema.js";

export type WindowKind = QuotaWindow["kind"];

export const FIVE_HOUR_MINUTES = 300;
export const WEEKLY_MINUTES = 10_080;

/** 300 min → "5h", 10080 min → "weekly", anything else (or unknown) → "other". */
export function classifyWindow(windowMinutes: number | null): WindowKind {
  if (windowMinutes === FIVE_HOUR_MINUTES) return "5h";
  if (windowMinutes === WEEKLY_MINUTES) return "weekly";
  return "other";
}

export function makeWindow(
  windowMinutes: number | null,
  usedPercent: number,
  resetsAt: Date | null,
): QuotaWindow {
  return {
    kind: classifyWindow(windowMinutes),
    windowMinutes,
    usedPercent,
    resetsAt: resetsAt === null ? null : resetsAt.toISOString(),
  };
}

/** A short name for a window: "5h", "weekly", else its length ("90m", "2h", "30d", "window"). */
export function windowLabel(window: Pick<QuotaWindow, "kind" | "windowMinutes">): string {
  if (window.kind !== "other") return window.kind;
  const m = window.windowMinutes;
  if (m === null) return "window";
  if (m % 1440 === 0) return `${m / 1440}d`;
  if (m % 60 === 0) return `${m / 60}h`;
  return `${m}m`;
}

/** Percent left as reported, 0–100. */
export function leftPercent(window: Pick<QuotaWindow, "usedPercent">): number {
  return Math.max(0, Math.min(100, 100 - window.usedPercent));
}

export function resetTime(window: Pick<QuotaWindow, "resetsAt">): Date | null {
  return window.resetsAt === null ? null : new Date(window.resetsAt);
}

/** True when the window's reset time has passed: its numbers describe a spent period. */
export function hasReset(window: Pick<QuotaWindow, "resetsAt">, now: Date): boolean {
  const reset = resetTime(window);
  return reset !== null && reset.getTime() <= now.getTime();
}

/** Percent left as it stands now: a window past its reset counts as refilled (to be re-checked). */
export function effectiveLeft(window: QuotaWindow, now: Date): number {
  return hasReset(window, now) ? 100 : leftPercent(window);
}

/** Fully used and not yet reset. */
export function isWindowExhaustedNow(window: QuotaWindow, now: Date): boolean {
  return effectiveLeft(window, now) <= 0;
}

/**
 * When a snapshot's reached limit (a 429, `limit_reached`) lifts: its own reset time, else the
 * latest reset among its fully used windows (the usage API sets `limit_reached` alongside them),
 * else the earliest window reset (something changes then); null when nothing says.
 */
export function limitLiftsAt(snapshot: QuotaSnapshot): Date | null {
  if (snapshot.limitResetsAt) return new Date(snapshot.limitResetsAt);
  let latestFull: Date | null = null;
  let earliest: Date | null = null;
  for (const w of snapshot.windows) {
    const reset = resetTime(w);
    if (reset === null) continue;
    if (w.usedPercent >= 100 && (latestFull === null || reset > latestFull)) latestFull = reset;
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

/** Out of quota right now: a window fully used and not reset, or a reached limit still in force. */
export function isSnapshotExhaustedNow(snapshot: QuotaSnapshot, now: Date): boolean {
  return (
    isLimitInForce(snapshot, now) || snapshot.windows.some((w) => isWindowExhaustedNow(w, now))
  );
}

/**
 * The window with the least left now (ties: the one that resets later, since it binds longer).
 * Null for a snapshot without windows.
 */
export function bottleneck(windows: readonly QuotaWindow[], now: Date): QuotaWindow | null {
  let best: QuotaWindow | null = null;
  for (const w of windows) {
    if (best === null) {
      best = w;
      continue;
    }
    const diff = effectiveLeft(w, now) - effectiveLeft(best, now);
    if (diff < 0) best = w;
    else if (diff === 0) {
      const a = resetTime(w)?.getTime() ?? Infinity;
      const b = resetTime(best)?.getTime() ?? Infinity;
      if (a > b) best = w;
    }
  }
  return best;
}

/** True when some reset time in the snapshot has passed since it was observed: re-check it. */
export function hasStaleReset(snapshot: QuotaSnapshot, now: Date): boolean {
  if (snapshot.windows.some((w) => hasReset(w, now))) return true;
  return (
    snapshot.limitReached &&
    snapshot.limitResetsAt != null &&
    new Date(snapshot.limitResetsAt).getTime() <= now.getTime()
  );
}

/** When an exhausted snapshot becomes usable again (the latest blocking reset), or null if unknown. */
export function exhaustedUntil(snapshot: QuotaSnapshot, now: Date): Date | null {
  let until: Date | null = null;
  let unknown = false;
  const consider = (d: Date | null): void => {
    if (d === null) unknown = true;
    else if (until === null || d > until) until = d;
  };
  for (const w of snapshot.windows) if (isWindowExhaustedNow(w, now)) consider(resetTime(w));
  if (isLimitInForce(snapshot, now)) consider(limitLiftsAt(snapshot));
  return unknown ? null : until;
}
