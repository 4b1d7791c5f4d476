/**
 * Parser for the rate-limit snapshot codex itself passes around, in the two wrappers that share
 * it — the only reader of this format (the supervisor's rollout watch and the app-server relay use
 * it too):
 *
 * - the `codex.rate_limits` WebSocket event (docs/codex-cli.md §2):
 *   {"type":"codex.rate_limits","plan_type":"plus","rate_limits":{"primary":{"used_percent","window_minutes","reset_at"},"secondary":{…}},"credits":{…}}
 * - the `rate_limits` of a rollout `token_count` event (docs/codex-cli.md §3, docs/chatgpt-backend.md §3.4):
 *   {"limit_id":"codex","primary":{"used_percent":100.0,"window_minutes":300,"resets_at":…},"secondary":{…}|null,
 *    "plan_type":"plus"|null,"credits":{…},"individual_limit":{…}?,"spend_control_reached":true?,
 *    "rate_limit_reached_type":…?}
 *
 * `rate_limits: null` (not "0 % used"), one holding only credits, and one of another meter
 * (`limit_id` other than "codex") say nothing about the account: null. The reset field is
 * `reset_at` in one wrapper and `resets_at` in the other (epoch s); older codex wrote
 * `resets_in_seconds`. A zero-length window is no window. Throws QuotaParseError on garbage.
 */
import type { Allowance, QuotaSnapshot, QuotaWindow } from "../pool/schema.js";
import { fail, isObject, optBoolean, optObject, optString } from "./fields.js";
import {
  parseAllowanceObject,
  parseWindowObject,
  reachedSpendCap,
  reachedTypeOf,
} from "./parse-parts.js";

/** The limit codex's quota lives under; snapshots of other meters must not overwrite it. */
const MAIN_LIMIT_ID = "codex";

export type RateLimitsSource = "rate-limits-event" | "rollout";

/**
 * Parses the inner `{primary, secondary, plan_type?, limit_id?, …}` object. `plan` is the
 * wrapper's plan when the object itself has none.
 */
export function parseRateLimits(
  rateLimits: unknown,
  observedAt: Date,
  source: RateLimitsSource,
  plan: string | null = null,
  options: { limitReached?: boolean } = {},
): QuotaSnapshot | null {
  const what = source === "rollout" ? "token_count rate_limits" : "codex.rate_limits event";
  if (rateLimits === null || rateLimits === undefined) return null;
  if (!isObject(rateLimits)) fail(what, "rate_limits is not an object");
  const limitId = optString(rateLimits, "limit_id", what);
  if (limitId !== null && limitId !== MAIN_LIMIT_ID) return null;
  const windows: QuotaWindow[] = [];
  for (const slot of ["primary", "secondary"]) {
    const raw = optObject(rateLimits, slot, what);
    const w = raw === null ? null : parseWindowObject(raw, `${what} ${slot}`, observedAt);
    if (w !== null) windows.push(w);
  }
  const allowances: Allowance[] = [];
  const individual = optObject(rateLimits, "individual_limit", what);
  if (individual !== null) {
    allowances.push(
      parseAllowanceObject(
        individual,
        "credit-limit",
        null,
        `${what} individual_limit`,
        observedAt,
      ),
    );
  }
  if (optBoolean(rateLimits, "spend_control_reached", what) === true) {
    allowances.push(reachedSpendCap());
  }
  if (windows.length === 0 && allowances.length === 0) return null;
  return {
    observedAt: observedAt.toISOString(),
    source,
    plan: optString(rateLimits, "plan_type", what) ?? plan,
    windows,
    allowances,
    limitReached: options.limitReached ?? false,
    reachedType: reachedTypeOf(rateLimits["rate_limit_reached_type"]),
  };
}

/** A `codex.rate_limits` event; null for any other event type or an event without limits. */
export function parseRateLimitsEvent(event: unknown, observedAt: Date): QuotaSnapshot | null {
  const what = "codex.rate_limits event";
  if (!isObject(event)) fail(what, "not a JSON object");
  if (event["type"] !== "codex.rate_limits") return null;
  const plan = optString(event, "plan_type", what);
  return parseRateLimits(event["rate_limits"], observedAt, "rate-limits-event", plan);
}

/**
 * The `rate_limits` object of a rollout `token_count` event (the supervisor's cheapest source);
 * `limitReached` when the turn that followed failed on the usage limit.
 */
export function parseTokenCountRateLimits(
  rateLimits: unknown,
  observedAt: Date,
  limitReached = false,
): QuotaSnapshot | null {
  return parseRateLimits(rateLimits, observedAt, "rollout", null, { limitReached });
}
