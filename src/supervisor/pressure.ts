/**
 * How close the running account is to its floor, from its latest quota snapshot, judged by the one
 * floor rule (src/quota/floors.ts through src/quota/verdict.ts) that selection uses too: "floor"
 * when selection would not choose it now, "near" when a limit is within the prewarm margin above
 * its floor. Per-model and code-review limits never put pressure on the account.
 */
import type { Account, QuotaSnapshot } from "../pool/schema.js";
import { floorsFromSettings } from "../quota/floors.js";
import { judgeQuota } from "../quota/verdict.js";
import type { Pressure } from "./machine.js";

export interface FloorSettings {
  readonly rotateAt5h: number;
  readonly rotateAtWeekly: number;
  readonly prewarmMargin: number;
}

export function pressureOf(
  snapshot: QuotaSnapshot | null,
  account: Pick<Account, "floors">,
  settings: FloorSettings,
  now: Date,
): Pressure {
  const verdict = judgeQuota(snapshot, account, floorsFromSettings(settings), now);
  if (verdict.blocked !== null) return "floor";
  const near = verdict.readings.some(
    (r) => r.left !== null && r.left <= Math.min(100, r.floor + settings.prewarmMargin),
  );
  return near ? "near" : "ok";
}

/** No floors: describing the quota ranks limits by what is left, not by headroom. */
const NO_FLOORS = { fiveHour: 0, weekly: 0 };

/** "5h: 3% left, resets 14:05" (or "spend cap: 0% left, …") for the switch line: the tightest limit. */
export function describeQuota(
  snapshot: QuotaSnapshot | null,
  now: Date,
  clock: (epochMs: number) => string,
): string {
  const first = judgeQuota(snapshot, { floors: {} }, NO_FLOORS, now).bottleneck;
  if (first === null || first.left === null) return "quota unknown";
  const left = Math.round(first.left);
  const reset = first.resetsAt;
  const resetText = reset !== null && left < 50 ? `, resets ${clock(reset.getTime())}` : "";
  return `${first.label}: ${left}% left${resetText}`;
}
