/**
 * One account's rate-limit picture, rendered three ways: /wham/usage (docs/codex-cli.md §2), the
 * x-codex-* headers and the WS `codex.rate_limits` event. A script that asks for one of the real
 * service's shapes is rendered by usage-shapes.ts instead of the tidy 5h + weekly pair.
 */
import type { AccountState } from "./state.js";
import type { SimUsageScript } from "./types.js";
import { hasShape, shapedHeaders, shapedRateLimitsEvent, shapedUsageBody } from "./usage-shapes.js";

export const PRIMARY_WINDOW_SECONDS = 18_000;
export const SECONDARY_WINDOW_SECONDS = 604_800;

export interface Snapshot {
  plan: string;
  primaryUsed: number;
  primaryResetAt: number;
  secondaryUsed: number;
  secondaryResetAt: number;
  /** A real-service shape to render instead (usage-shapes.ts); `refused`: a turn hit the limit. */
  shape?: { script: SimUsageScript; refused: boolean; nowSec: number };
}

/**
 * Like the real service, a refused window refills at its reset time: from then on the account serves
 * turns again (its `limitAfter` no longer applies) and reports the window as unused.
 */
export function refillIfReset(state: AccountState, nowSec: number): void {
  if (!state.limitHit) return;
  const resetsAt = state.spec.turns?.resetsAt ?? state.primaryResetAt;
  if (nowSec < resetsAt) return;
  state.limitHit = false;
  state.refilled = true;
  state.primaryResetAt = nowSec + 5 * 3600; // the next window
}

/** The primary % after `turnsServed` turns: the script's last reported value, 100 once refused. */
function turnDerivedPrimary(state: AccountState): number {
  if (state.limitHit) return 100;
  if (state.refilled) return 0;
  const byTurn = state.spec.turns?.usedPercentByTurn ?? [];
  for (let i = Math.min(state.turnsServed, byTurn.length) - 1; i >= 0; i -= 1) {
    const value = byTurn[i];
    if (value !== undefined) return value;
  }
  return 0;
}

export function snapshotOf(state: AccountState): Snapshot {
  const script = state.spec.usage;
  return {
    plan: state.spec.plan ?? "plus",
    primaryUsed: script?.primaryUsedPercent ?? turnDerivedPrimary(state),
    primaryResetAt: state.primaryResetAt,
    secondaryUsed: script?.secondaryUsedPercent ?? 0,
    secondaryResetAt: state.secondaryResetAt,
    ...(hasShape(script)
      ? { shape: { script, refused: state.limitHit, nowSec: Math.floor(Date.now() / 1000) } }
      : {}),
  };
}

/** The snapshot reported with a turn: after turn `turnIndex` (0-based), or 100 % when refused. */
export function turnSnapshot(state: AccountState, turnIndex: number | "refused"): Snapshot {
  const base = snapshotOf(state);
  if (turnIndex === "refused") {
    return {
      ...base,
      primaryUsed: 100,
      ...(base.shape ? { shape: { ...base.shape, refused: true } } : {}),
    };
  }
  const byTurn = state.spec.turns?.usedPercentByTurn;
  const reported = byTurn?.[Math.min(turnIndex, byTurn.length - 1)];
  return reported === undefined ? base : { ...base, primaryUsed: reported };
}

export function usageBody(s: Snapshot, nowSec: number): Record<string, unknown> {
  if (s.shape) return shapedUsageBody(s.plan, s.shape.script, nowSec, s.shape.refused);
  const reached = s.primaryUsed >= 100 || s.secondaryUsed >= 100;
  const window = (used: number, seconds: number, resetAt: number): Record<string, number> => ({
    used_percent: used,
    limit_window_seconds: seconds,
    reset_after_seconds: Math.max(0, resetAt - nowSec),
    reset_at: resetAt,
  });
  return {
    plan_type: s.plan,
    rate_limit: {
      allowed: !reached,
      limit_reached: reached,
      primary_window: window(s.primaryUsed, PRIMARY_WINDOW_SECONDS, s.primaryResetAt),
      secondary_window: window(s.secondaryUsed, SECONDARY_WINDOW_SECONDS, s.secondaryResetAt),
    },
    credits: { has_credits: false, unlimited: false, balance: "0" },
    additional_rate_limits: [],
  };
}

export function rateLimitHeaders(s: Snapshot): Record<string, string> {
  if (s.shape) return shapedHeaders(s.plan, s.shape.script, s.shape.nowSec, s.shape.refused);
  return {
    "x-codex-primary-used-percent": String(s.primaryUsed),
    "x-codex-primary-window-minutes": String(PRIMARY_WINDOW_SECONDS / 60),
    "x-codex-primary-reset-at": String(s.primaryResetAt),
    "x-codex-secondary-used-percent": String(s.secondaryUsed),
    "x-codex-secondary-window-minutes": String(SECONDARY_WINDOW_SECONDS / 60),
    "x-codex-secondary-reset-at": String(s.secondaryResetAt),
    "x-codex-credits-has-credits": "false",
    "x-codex-credits-unlimited": "false",
    "x-codex-credits-balance": "0",
  };
}

export function rateLimitsEvent(s: Snapshot): Record<string, unknown> {
  if (s.shape)
    return shapedRateLimitsEvent(s.plan, s.shape.script, s.shape.nowSec, s.shape.refused);
  return {
    type: "codex.rate_limits",
    plan_type: s.plan,
    rate_limits: {
      primary: {
        used_percent: s.primaryUsed,
        window_minutes: PRIMARY_WINDOW_SECONDS / 60,
        reset_at: s.primaryResetAt,
      },
      secondary: {
        used_percent: s.secondaryUsed,
        window_minutes: SECONDARY_WINDOW_SECONDS / 60,
        reset_at: s.secondaryResetAt,
      },
    },
    credits: { has_credits: false, unlimited: false, balance: "0" },
  };
}
