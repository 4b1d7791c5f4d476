/**
 * Selection: which account should run now. One pure function (no clock, no I/O) ranks the pool:
 * - usable before unusable; an account at or under a rotate floor in any window is not usable
 *   (per-account floors override the pool's), nor one whose limit was reached and has not lifted,
 *   nor one that needs a login or was excluded by the caller;
 * - among usable accounts, more headroom in the bottleneck window first (headroom = percent left
 *   minus that window's floor); then the sooner reset (use quota before it refills for nothing);
 *   then least recently used; then pool order. Accounts without any snapshot yet come after those
 *   with known headroom, and accounts busy in another live session come last.
 * A window whose reset time has passed counts as refilled: stale data never blocks an account.
 */
import type { Settings } from "../platform/settings-table.js";
import {
  effectiveLeft,
  isLimitInForce,
  limitLiftsAt,
  resetTime,
  windowLabel,
} from "../quota/windows.js";
import type { Account, QuotaWindow } from "./schema.js";

export interface SelectionFloors {
  /** Percent left at or under which the 5-hour window makes an account unusable. */
  fiveHour: number;
  weekly: number;
}

export interface SelectOptions {
  floors: SelectionFloors;
  now: Date;
  /** Our id of the pinned account (the default, or `run --account`): chosen whenever it is usable. */
  pinned?: string | null;
  /** With a pin: choose nothing rather than another account when the pinned one is unusable. */
  strictPin?: boolean;
  /** Accounts not to choose (e.g. the one just rotated away from). */
  exclude?: Iterable<string>;
  /** Accounts in use by another live session: usable, but only when nothing else is. */
  busy?: Iterable<string>;
}

export type SkipCode = "needs-login" | "excluded" | "exhausted" | "below-floor";

export interface SkipReason {
  code: SkipCode;
  /** One short line, e.g. "5h window at 3% left (floor 5%)". */
  message: string;
  /** The window that blocks it, by label ("5h", "weekly", "90m"), when one does. */
  window: string | null;
  /** When it becomes usable again by the reset times we know; null when unknown or never. */
  availableAt: Date | null;
}

export interface RankedAccount {
  account: Account;
  /** The window with the least headroom; null when the account has no snapshot. */
  bottleneck: QuotaWindow | null;
  /** Percent left in that window now (a past reset counts as 100); null when unknown. */
  leftPercent: number | null;
  busy: boolean;
}

export interface Selection {
  chosen: Account | null;
  /** Usable accounts, best first. */
  ranked: RankedAccount[];
  /** Every unusable account, in pool order, with why. */
  skipped: { account: Account; reason: SkipReason }[];
  /** The soonest time a skipped (exhausted or below-floor) account becomes usable. */
  earliestReset: Date | null;
}

export function floorsFromSettings(
  settings: Pick<Settings, "rotateAt5h" | "rotateAtWeekly">,
): SelectionFloors {
  return { fiveHour: settings.rotateAt5h, weekly: settings.rotateAtWeekly };
}

/** The floor that applies to a window: the account's own, else the pool's, by the window's length. */
export function floorFor(window: QuotaWindow, account: Account, floors: SelectionFloors): number {
  const fiveHour = account.floors.fiveHour ?? floors.fiveHour;
  const weekly = account.floors.weekly ?? floors.weekly;
  if (window.kind === "5h") return fiveHour;
  if (window.kind === "weekly") return weekly;
  // Other lengths: short windows behave like the 5-hour one, long ones like the week; unknown gets the stricter.
  if (window.windowMinutes === null) return Math.max(fiveHour, weekly);
  return window.windowMinutes < 24 * 60 ? fiveHour : weekly;
}

type Verdict =
  | { usable: true; ranked: RankedAccount; headroom: number | null; resetMs: number }
  | { usable: false; reason: SkipReason };

function latest(dates: (Date | null)[]): Date | null {
  let out: Date | null = null;
  for (const d of dates) {
    if (d === null) return null;
    if (out === null || d > out) out = d;
  }
  return out;
}

function judge(
  account: Account,
  options: SelectOptions,
  excluded: Set<string>,
  busy: Set<string>,
): Verdict {
  const { now, floors } = options;
  if (account.state.kind !== "ok") {
    // An account whose refresh is in doubt is never handed out: its refresh token may be spent.
    const message = `${account.state.kind === "in-doubt" ? "refresh in doubt" : "needs login"} (${account.state.reason})`;
    return {
      usable: false,
      reason: { code: "needs-login", message, window: null, availableAt: null },
    };
  }
  if (excluded.has(account.id)) {
    return {
      usable: false,
      reason: { code: "excluded", message: "excluded", window: null, availableAt: null },
    };
  }
  const quota = account.quota;
  const isBusy = busy.has(account.id);
  if (quota === null) {
    return {
      usable: true,
      ranked: { account, bottleneck: null, leftPercent: null, busy: isBusy },
      headroom: null,
      resetMs: Infinity,
    };
  }
  const blocking = quota.windows
    .map((w) => ({ w, left: effectiveLeft(w, now), floor: floorFor(w, account, floors) }))
    .filter((x) => x.left <= x.floor)
    .sort((a, b) => a.left - b.left);
  const limited = isLimitInForce(quota, now);
  const worst = blocking[0];
  if (worst !== undefined || limited) {
    const availableAt = latest([
      ...blocking.map((x) => resetTime(x.w)),
      ...(limited ? [limitLiftsAt(quota)] : []),
    ]);
    const exhausted = limited || (worst !== undefined && worst.left <= 0);
    const label = worst === undefined ? null : windowLabel(worst.w);
    const message =
      worst === undefined
        ? "usage limit reached"
        : worst.left <= 0
          ? `${label} window exhausted`
          : `${label} window at ${Math.round(worst.left)}% left (floor ${worst.floor}%)`;
    return {
      usable: false,
      reason: {
        code: exhausted ? "exhausted" : "below-floor",
        message,
        window: label,
        availableAt,
      },
    };
  }
  let best: { w: QuotaWindow; headroom: number } | null = null;
  for (const w of quota.windows) {
    const headroom = effectiveLeft(w, now) - floorFor(w, account, floors);
    if (best === null || headroom < best.headroom) best = { w, headroom };
  }
  const reset = best === null ? null : resetTime(best.w);
  return {
    usable: true,
    ranked: {
      account,
      bottleneck: best?.w ?? null,
      leftPercent: best === null ? null : effectiveLeft(best.w, now),
      busy: isBusy,
    },
    headroom: best?.headroom ?? null,
    resetMs: reset === null || reset.getTime() <= now.getTime() ? Infinity : reset.getTime(),
  };
}

function lastUsedMs(account: Account): number {
  return account.lastUsedAt === null ? -Infinity : Date.parse(account.lastUsedAt);
}

/** Ranks the accounts for "which account should run now" (see the module comment). */
export function selectAccounts(accounts: readonly Account[], options: SelectOptions): Selection {
  const excluded = new Set(options.exclude ?? []);
  const busy = new Set(options.busy ?? []);
  const usable: { v: Extract<Verdict, { usable: true }>; order: number }[] = [];
  const skipped: Selection["skipped"] = [];
  accounts.forEach((account, order) => {
    const v = judge(account, options, excluded, busy);
    if (v.usable) usable.push({ v, order });
    else skipped.push({ account, reason: v.reason });
  });
  usable.sort((a, b) => {
    const x = a.v;
    const y = b.v;
    if (x.ranked.busy !== y.ranked.busy) return x.ranked.busy ? 1 : -1;
    if ((x.headroom === null) !== (y.headroom === null)) return x.headroom === null ? 1 : -1;
    if (x.headroom !== null && y.headroom !== null && x.headroom !== y.headroom) {
      return y.headroom - x.headroom;
    }
    if (x.resetMs !== y.resetMs) return x.resetMs < y.resetMs ? -1 : 1;
    const lru = lastUsedMs(x.ranked.account) - lastUsedMs(y.ranked.account);
    if (lru !== 0 && !Number.isNaN(lru)) return lru < 0 ? -1 : 1;
    return a.order - b.order;
  });
  const ranked = usable.map((u) => u.v.ranked);
  let chosen: Account | null = ranked[0]?.account ?? null;
  if (options.pinned) {
    const pinned = ranked.find((r) => r.account.id === options.pinned);
    if (pinned) chosen = pinned.account;
    else if (options.strictPin) chosen = null;
  }
  let earliestReset: Date | null = null;
  for (const { reason } of skipped) {
    const at = reason.availableAt;
    if (at !== null && (earliestReset === null || at < earliestReset)) earliestReset = at;
  }
  return { chosen, ranked, skipped, earliestReset };
}

/** The account selection would choose now, or null when none is usable. */
export function selectBest(accounts: readonly Account[], options: SelectOptions): Account | null {
  return selectAccounts(accounts, options).chosen;
}
