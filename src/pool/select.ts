/**
 * Selection: which account should run now. One pure function (no clock, no I/O) ranks the pool:
 * - usable before unusable; an account is not usable when a window or allowance is at or under its
 *   floor (src/quota/floors.ts, judged by src/quota/verdict.ts), nor when its limit was reached and
 *   has not lifted, nor when it needs a login, nor when its plan does not include Codex or the
 *   session's model (`usage_not_included`: never waited for), nor when the caller excluded it;
 * - among usable accounts, more headroom in the bottleneck (headroom = percent left minus that
 *   limit's floor) first; then the sooner reset (use quota before it refills for nothing); then
 *   least recently used; then pool order. Accounts without any snapshot yet come after those with
 *   known headroom, and accounts busy in another live session come last.
 * A window whose reset time has passed counts as refilled: stale data never blocks an account.
 */
import { notIncludedFor } from "../quota/entitlements.js";
import type { PoolFloors } from "../quota/floors.js";
import { judgeQuota, type LimitReading } from "../quota/verdict.js";
import type { Account } from "./schema.js";

/** The pool's floors (rotate_at_5h / rotate_at_weekly), see src/quota/floors.ts. */
export type SelectionFloors = PoolFloors;

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
  /** The model the session will use, when known: accounts whose plan lacks it are skipped. */
  model?: string | null;
}

export type SkipCode = "needs-login" | "not-included" | "excluded" | "exhausted" | "below-floor";

export interface SkipReason {
  code: SkipCode;
  /** One short line, e.g. "5h window at 3% left (floor 5%)". */
  message: string;
  /** The window or allowance that blocks it, by label ("5h", "weekly", "90m", "spend cap"). */
  window: string | null;
  /** When it becomes usable again by the reset times we know; null when unknown or never. */
  availableAt: Date | null;
}

export interface RankedAccount {
  account: Account;
  /** The limit with the least headroom; null when none is known (no snapshot, or no numbers). */
  bottleneck: LimitReading | null;
  /** Percent left in that limit now (a past reset counts as 100); null when unknown. */
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

type Verdict =
  | { usable: true; ranked: RankedAccount; headroom: number | null; resetMs: number }
  | { usable: false; reason: SkipReason };

function skip(code: SkipCode, message: string): Verdict {
  return { usable: false, reason: { code, message, window: null, availableAt: null } };
}

function blockMessage(worst: LimitReading | undefined): string {
  if (worst === undefined) return "usage limit reached";
  if (worst.limit.type === "allowance") {
    return worst.exhausted
      ? `${worst.label} reached`
      : `${worst.label} at ${Math.round(worst.left ?? 0)}% left (floor ${worst.floor}%)`;
  }
  return worst.exhausted
    ? `${worst.label} window exhausted`
    : `${worst.label} window at ${Math.round(worst.left ?? 0)}% left (floor ${worst.floor}%)`;
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
    const what = account.state.kind === "in-doubt" ? "refresh in doubt" : "needs login";
    return skip("needs-login", `${what} (${account.state.reason})`);
  }
  const missing = notIncludedFor(account, options.model);
  if (missing !== null) {
    return skip(
      "not-included",
      missing.model === null
        ? "its plan does not include Codex"
        : `its plan does not include ${missing.model}`,
    );
  }
  if (excluded.has(account.id)) return skip("excluded", "excluded");
  const verdict = judgeQuota(account.quota, account, floors, now);
  if (verdict.blocked !== null) {
    const worst = verdict.blockers[0];
    return {
      usable: false,
      reason: {
        code: verdict.blocked,
        message: blockMessage(worst),
        window: worst?.label ?? null,
        availableAt: verdict.availableAt,
      },
    };
  }
  const neck = verdict.bottleneck;
  const reset = neck?.resetsAt ?? null;
  return {
    usable: true,
    ranked: {
      account,
      bottleneck: neck,
      leftPercent: neck?.left ?? null,
      busy: busy.has(account.id),
    },
    headroom: neck?.headroom ?? null,
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
