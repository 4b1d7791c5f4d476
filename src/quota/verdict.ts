/**
 * How one account's quota stands now, judged once for everyone who asks: selection (usable? how
 * much headroom?), the supervisor's pressure rule (at or near the floor?), `status` (ok, low,
 * exhausted until when, which limit binds) and the exhausted countdown (what resets when).
 *
 * The limits judged are the snapshot's windows and its allowances (spend caps, credit limits),
 * each against its floor from floors.ts. Side limits (per-model, code review) are never judged: they
 * must not make the account unusable for ordinary turns (docs/chatgpt-backend.md §3.1). A window
 * or allowance past its reset counts as refilled: stale data never blocks an account.
 */
import type { Account, Allowance, QuotaSnapshot, QuotaWindow } from "../pool/schema.js";
import { floorFor, type PoolFloors } from "./floors.js";
import {
  allowanceEffectiveLeft,
  allowanceLabel,
  effectiveLeft,
  isLimitInForce,
  limitLiftsAt,
  resetTime,
  windowLabel,
} from "./windows.js";

export type JudgedLimit =
  | { readonly type: "window"; readonly window: QuotaWindow }
  | { readonly type: "allowance"; readonly allowance: Allowance };

export interface LimitReading {
  /** "5h", "weekly", "30d", "90m", "spend cap", "credit limit". */
  readonly label: string;
  readonly limit: JudgedLimit;
  /** Percent left now (past its reset: 100); null when unknown (an allowance without a percent). */
  readonly left: number | null;
  readonly floor: number;
  /** left − floor; null when left is unknown. */
  readonly headroom: number | null;
  readonly resetsAt: Date | null;
  /** Nothing left (or an allowance reached) and its reset not passed. */
  readonly exhausted: boolean;
  /** At or under its floor; exhausted included. */
  readonly atFloor: boolean;
}

export interface QuotaVerdict {
  /** Every judged limit, windows first, in the snapshot's order. */
  readonly readings: readonly LimitReading[];
  /** What keeps the account out now, worst first (exhausted ones, then least left). */
  readonly blockers: readonly LimitReading[];
  /** The snapshot's own "limit reached" (a 429, `limit_reached`) is still in force. */
  readonly limitInForce: boolean;
  /** null: usable. `exhausted`: something is used up; `below-floor`: only floors are reached. */
  readonly blocked: "exhausted" | "below-floor" | null;
  /** When every blocker has lifted, by the resets we know; null when usable or unknown. */
  readonly availableAt: Date | null;
  /** The reading with the least headroom (ties: the one that resets later, it binds longer). */
  readonly bottleneck: LimitReading | null;
}

function reading(
  limit: JudgedLimit,
  account: Pick<Account, "floors">,
  floors: PoolFloors,
  now: Date,
): LimitReading {
  const raw = limit.type === "window" ? limit.window : limit.allowance;
  const left =
    limit.type === "window"
      ? effectiveLeft(limit.window, now)
      : allowanceEffectiveLeft(limit.allowance, now);
  const floor = floorFor(raw, account, floors);
  const exhausted = left !== null && left <= 0;
  return {
    label: limit.type === "window" ? windowLabel(limit.window) : allowanceLabel(limit.allowance),
    limit,
    left,
    floor,
    headroom: left === null ? null : left - floor,
    resetsAt: resetTime(raw),
    exhausted,
    atFloor: left !== null && left <= floor,
  };
}

/** The latest of some dates, or null when one of them is unknown. */
function latest(dates: readonly (Date | null)[]): Date | null {
  let out: Date | null = null;
  for (const d of dates) {
    if (d === null) return null;
    if (out === null || d > out) out = d;
  }
  return out;
}

function worstFirst(a: LimitReading, b: LimitReading): number {
  if (a.exhausted !== b.exhausted) return a.exhausted ? -1 : 1;
  return (a.left ?? 0) - (b.left ?? 0);
}

function tighter(a: LimitReading, b: LimitReading): boolean {
  if (a.headroom === null) return false;
  if (b.headroom === null) return true;
  if (a.headroom !== b.headroom) return a.headroom < b.headroom;
  return (a.resetsAt?.getTime() ?? Infinity) > (b.resetsAt?.getTime() ?? Infinity);
}

/** Judges a snapshot (null: never observed, nothing known) for this account at `now`. */
export function judgeQuota(
  snapshot: QuotaSnapshot | null,
  account: Pick<Account, "floors">,
  floors: PoolFloors,
  now: Date,
): QuotaVerdict {
  if (snapshot === null) {
    return {
      readings: [],
      blockers: [],
      limitInForce: false,
      blocked: null,
      availableAt: null,
      bottleneck: null,
    };
  }
  const limits: JudgedLimit[] = [
    ...snapshot.windows.map((window) => ({ type: "window" as const, window })),
    ...(snapshot.allowances ?? []).map((allowance) => ({ type: "allowance" as const, allowance })),
  ];
  const readings = limits.map((l) => reading(l, account, floors, now));
  const blockers = readings.filter((r) => r.atFloor).sort(worstFirst);
  const limitInForce = isLimitInForce(snapshot, now);
  let bottleneck: LimitReading | null = null;
  for (const r of readings) {
    if (r.headroom !== null && (bottleneck === null || tighter(r, bottleneck))) bottleneck = r;
  }
  const blocked =
    limitInForce || blockers.some((b) => b.exhausted)
      ? "exhausted"
      : blockers.length > 0
        ? "below-floor"
        : null;
  const availableAt =
    blocked === null
      ? null
      : latest([
          ...blockers.map((b) => b.resetsAt),
          ...(limitInForce ? [limitLiftsAt(snapshot)] : []),
        ]);
  return { readings, blockers, limitInForce, blocked, availableAt, bottleneck };
}

/** Which limit keeps an account out, in words: "weekly", "spend cap", or "usage limit". */
export function blockerLabel(verdict: QuotaVerdict): string | null {
  if (verdict.blocked === null) return null;
  return verdict.blockers[0]?.label ?? "usage limit";
}
