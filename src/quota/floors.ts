/**
 * The floor rule: the percent left at or under which a window or allowance makes an account unusable
 * (selection), triggers a switch (the supervisor's pressure rule), shows as "low" (status) and
 * counts as out (the exhausted countdown). It is the only place that maps a limit to a floor.
 *
 * Two settings only, by how fast a limit refills:
 * - `rotate_at_5h` for windows of a day or shorter (the 5-hour window, and any other short one):
 *   they refill within the working day, and a turn costs a large share of them;
 * - `rotate_at_weekly` for longer windows (weekly, 30-day, any other long one) and for allowances
 *   that are not windows (a spend cap, a monthly credit limit): they do not refill before the day is
 *   over, and a turn costs a small share of them.
 * A 30-day window gets no setting of its own: it behaves like the week (slow to refill, small share
 * per turn), a monthly-only plan has nothing else to rotate on, and a user has no different reserve
 * to keep for it — one more knob would only be one more way to disagree with ourselves.
 * A window of unknown length gets the stricter (higher) of the two. An account's own floors
 * (`floors.fiveHour` / `floors.weekly` in the pool) override the pool's, class by class.
 */
import type { Settings } from "../platform/settings-table.js";
import type { Account, Allowance, QuotaWindow } from "../pool/schema.js";

export interface PoolFloors {
  /** Percent left at or under which a short window (a day or less) blocks. */
  fiveHour: number;
  /** The same for long windows and allowances. */
  weekly: number;
}

export function floorsFromSettings(
  settings: Pick<Settings, "rotateAt5h" | "rotateAtWeekly">,
): PoolFloors {
  return { fiveHour: settings.rotateAt5h, weekly: settings.rotateAtWeekly };
}

/** Windows this long or shorter refill within the day: the short floor. */
export const SHORT_WINDOW_MAX_MINUTES = 24 * 60;

export type FloorClass = "short" | "long" | "unknown";

/** Which of the two settings a window or an allowance falls under. */
export function floorClassOf(limit: QuotaWindow | Allowance): FloorClass {
  if (!("windowMinutes" in limit)) return "long";
  if (limit.kind === "5h") return "short";
  if (limit.kind === "weekly" || limit.kind === "30d") return "long";
  if (limit.windowMinutes === null) return "unknown";
  return limit.windowMinutes <= SHORT_WINDOW_MAX_MINUTES ? "short" : "long";
}

/** The floor (percent left) that applies to a window or allowance of this account. */
export function floorFor(
  limit: QuotaWindow | Allowance,
  account: Pick<Account, "floors">,
  floors: PoolFloors,
): number {
  const short = account.floors.fiveHour ?? floors.fiveHour;
  const long = account.floors.weekly ?? floors.weekly;
  switch (floorClassOf(limit)) {
    case "short":
      return short;
    case "long":
      return long;
    case "unknown":
      return Math.max(short, long);
  }
}
