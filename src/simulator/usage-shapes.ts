/**
 * The real service's quota shapes (docs/chatgpt-backend.md §3.1, §3.2), rendered from an account's
 * usage script when it asks for one (windows of any length, a spend cap, a credit allowance,
 * per-model and code-review limits, `allowed` and `limit_reached` disagreeing): the /wham/usage
 * body with the fields real answers carry (numbers as strings, nulls, credits, promo), the turn
 * headers (a missing window as `…-window-minutes: 0` with an empty `…-reset-at`, booleans as
 * "True"/"False", a family per model) and the `codex.rate_limits` event.
 */
import type { SimAllowance, SimModelLimit, SimUsageScript, SimWindow } from "./types.js";

/** True when the script asks for a real-service shape instead of the tidy 5h + weekly pair. */
export function hasShape(script: SimUsageScript | undefined): script is SimUsageScript {
  if (script === undefined) return false;
  return (
    script.windows !== undefined ||
    script.spendControl !== undefined ||
    script.individualLimit !== undefined ||
    script.modelLimits !== undefined ||
    script.codeReview !== undefined ||
    script.allowed !== undefined ||
    script.limitReached !== undefined
  );
}

/** The script's windows, the first at 100 % once a turn was refused on the limit. */
function windowsOf(script: SimUsageScript, refused: boolean): SimWindow[] {
  const windows = script.windows ?? [];
  const first = windows[0];
  return refused && first !== undefined
    ? [{ ...first, usedPercent: 100 }, ...windows.slice(1)]
    : windows;
}

function after(w: SimWindow): number {
  return w.resetAfterSeconds ?? w.seconds;
}

function windowJson(w: SimWindow, nowSec: number): Record<string, number> {
  return {
    used_percent: w.usedPercent,
    limit_window_seconds: w.seconds,
    reset_after_seconds: after(w),
    reset_at: nowSec + after(w),
  };
}

function rateLimitJson(
  windows: readonly SimWindow[],
  nowSec: number,
  flags: { allowed?: boolean | undefined; limitReached?: boolean | undefined } = {},
): Record<string, unknown> {
  const full = windows.some((w) => w.usedPercent >= 100);
  const [primary, secondary] = windows;
  return {
    allowed: flags.allowed ?? !full,
    limit_reached: flags.limitReached ?? full,
    primary_window: primary === undefined ? null : windowJson(primary, nowSec),
    secondary_window: secondary === undefined ? null : windowJson(secondary, nowSec),
  };
}

/** A spend cap's `individual_limit`: `used_percent`, `reset_at` (§3.1). */
function spendJson(a: SimAllowance, nowSec: number): Record<string, unknown> {
  const resetAfter = a.resetAfterSeconds ?? 30 * 86_400;
  return {
    limit: a.limit ?? null,
    used: a.used ?? null,
    remaining: a.remaining ?? null,
    used_percent: a.usedPercent ?? null,
    reset_after_seconds: resetAfter,
    reset_at: nowSec + resetAfter,
  };
}

/** An enterprise credit allowance: `remaining_percent`, and `resets_at` — not `reset_at` (§3.1). */
function creditJson(a: SimAllowance, nowSec: number): Record<string, unknown> {
  return {
    limit: a.limit ?? null,
    used: a.used ?? null,
    remaining_percent: a.remainingPercent ?? null,
    resets_at: nowSec + (a.resetAfterSeconds ?? 30 * 86_400),
  };
}

function modelLimitJson(m: SimModelLimit, nowSec: number): Record<string, unknown> {
  if (m.meteredFeature === undefined && m.windows === undefined) return { limit_name: m.limitName };
  return {
    limit_name: m.limitName,
    metered_feature: m.meteredFeature ?? null,
    rate_limit: m.windows === undefined ? null : rateLimitJson(m.windows, nowSec),
  };
}

export function shapedUsageBody(
  plan: string,
  script: SimUsageScript,
  nowSec: number,
  refused: boolean,
): Record<string, unknown> {
  const spend = script.spendControl;
  const capped = spend?.reached === true;
  const rateLimit = capped
    ? null
    : {
        ...rateLimitJson(windowsOf(script, refused), nowSec, {
          allowed: script.allowed,
          limitReached: script.limitReached,
        }),
        ...(script.individualLimit
          ? { individual_limit: creditJson(script.individualLimit, nowSec) }
          : {}),
      };
  return {
    plan_type: plan,
    rate_limit: rateLimit,
    ...(spend
      ? { spend_control: { reached: spend.reached, individual_limit: spendJson(spend, nowSec) } }
      : {}),
    rate_limit_reached_type: capped
      ? { type: "workspace_member_usage_limit_reached", details: null }
      : null,
    code_review_rate_limit:
      script.codeReview === undefined ? null : rateLimitJson(script.codeReview, nowSec),
    additional_rate_limits: (script.modelLimits ?? []).map((m) => modelLimitJson(m, nowSec)),
    credits: {
      has_credits: false,
      unlimited: false,
      balance: null,
      overage_limit_reached: false,
      approx_local_messages: [0, 0],
    },
    rate_limit_reset_credits: { available_count: 0, applicable_available_count: 0 },
    promo: null,
    model_usage: {},
  };
}

function putWindow(
  headers: Record<string, string>,
  family: string,
  slot: "primary" | "secondary",
  w: SimWindow | undefined,
  nowSec: number,
): void {
  const p = `x-${family}-${slot}-`;
  // A missing window is sent as zeros and an empty reset-at (§3.2), not left out.
  headers[`${p}used-percent`] = w === undefined ? "0" : String(w.usedPercent);
  headers[`${p}window-minutes`] = w === undefined ? "0" : String(Math.round(w.seconds / 60));
  headers[`${p}reset-after-seconds`] = w === undefined ? "0" : String(after(w));
  headers[`${p}reset-at`] = w === undefined ? "" : String(nowSec + after(w));
}

/** `codex_bengalfox` → the header family `codex-bengalfox`. */
function familyOf(m: SimModelLimit): string {
  const base = (m.meteredFeature ?? m.limitName).toLowerCase().replace(/[^a-z0-9]+/g, "-");
  return base.startsWith("codex-") ? base : `codex-${base}`;
}

export function shapedHeaders(
  plan: string,
  script: SimUsageScript,
  nowSec: number,
  refused: boolean,
): Record<string, string> {
  const headers: Record<string, string> = {};
  const windows = windowsOf(script, refused);
  putWindow(headers, "codex", "primary", windows[0], nowSec);
  putWindow(headers, "codex", "secondary", windows[1], nowSec);
  for (const m of script.modelLimits ?? []) {
    if (m.windows === undefined || m.windows.length === 0) continue;
    const family = familyOf(m);
    putWindow(headers, family, "primary", m.windows[0], nowSec);
    putWindow(headers, family, "secondary", m.windows[1], nowSec);
    headers[`x-${family}-limit-name`] = m.limitName;
  }
  headers["x-codex-plan-type"] = plan;
  headers["x-codex-active-limit"] = "codex";
  headers["x-codex-credits-has-credits"] = "False";
  headers["x-codex-credits-unlimited"] = "False";
  headers["x-codex-credits-balance"] = "";
  return headers;
}

export function shapedRateLimitsEvent(
  plan: string,
  script: SimUsageScript,
  nowSec: number,
  refused: boolean,
): Record<string, unknown> {
  const windows = windowsOf(script, refused);
  const slot = (w: SimWindow | undefined): Record<string, number> | null =>
    w === undefined
      ? null
      : {
          used_percent: w.usedPercent,
          window_minutes: Math.round(w.seconds / 60),
          reset_at: nowSec + after(w),
        };
  return {
    type: "codex.rate_limits",
    plan_type: plan,
    rate_limits: { primary: slot(windows[0]), secondary: slot(windows[1]) },
    credits: { has_credits: false, unlimited: false, balance: null },
  };
}
