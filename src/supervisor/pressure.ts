/**
 * How close the running account is to its floor, from its latest quota snapshot. The floors are the
 * account's own (if set) else the pool's rotateAt5h/rotateAtWeekly; "near" is within the prewarm
 * margin above a floor. A reached limit still in force is "floor" whatever the percentages say.
 * Windows are told apart by their kind (from their length), never their slot.
 */
import type { Account, QuotaSnapshot, QuotaWindow } from "../pool/schema.js";
import { effectiveLeft, isLimitInForce, resetTime, windowLabel } from "../quota/windows.js";
import type { Pressure } from "./machine.js";

export interface FloorSettings {
  readonly rotateAt5h: number;
  readonly rotateAtWeekly: number;
  readonly prewarmMargin: number;
}

export function floorFor(
  window: QuotaWindow,
  account: Pick<Account, "floors">,
  s: FloorSettings,
): number {
  if (window.kind === "weekly") return account.floors.weekly ?? s.rotateAtWeekly;
  // A 5-hour window, or one of unknown length: the short-window floor is the cautious choice.
  return account.floors.fiveHour ?? s.rotateAt5h;
}

export function pressureOf(
  snapshot: QuotaSnapshot | null,
  account: Pick<Account, "floors">,
  settings: FloorSettings,
  now: Date,
): Pressure {
  if (snapshot === null) return "ok";
  if (isLimitInForce(snapshot, now)) return "floor";
  let level: Pressure = "ok";
  for (const w of snapshot.windows) {
    const left = effectiveLeft(w, now);
    const floor = floorFor(w, account, settings);
    if (left <= floor) return "floor";
    if (left <= Math.min(100, floor + settings.prewarmMargin)) level = "near";
  }
  return level;
}

/** "5h: 3% left, resets 14:05" for the switch line; the bottleneck-first list of windows. */
export function describeQuota(
  snapshot: QuotaSnapshot | null,
  now: Date,
  clock: (epochMs: number) => string,
): string {
  if (snapshot === null || snapshot.windows.length === 0) return "quota unknown";
  const sorted = [...snapshot.windows].sort(
    (a, b) => effectiveLeft(a, now) - effectiveLeft(b, now),
  );
  const first = sorted[0];
  if (first === undefined) return "quota unknown";
  const left = Math.round(effectiveLeft(first, now));
  const reset = resetTime(first);
  const resetText = reset !== null && left < 50 ? `, resets ${clock(reset.getTime())}` : "";
  return `${windowLabel(first)}: ${left}% left${resetText}`;
}
