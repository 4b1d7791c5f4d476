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
 * - the `rateLimits` of the app-server's `account/rateLimits/updated` notification and
 *   `account/rateLimits/read` answer (docs/codex-app-server.md §3), the same snapshot in camelCase:
 *   {"limitId":"codex","primary":{"usedPercent","windowDurationMins","resetsAt"},"secondary":…,
 *    "planType","individualLimit":{"limit","used","remainingPercent","resetsAt"}|null,
 *    "spendControlReached":bool|null,"rateLimitReachedType":…}. Its updates are sparse: a null field
 *   means "not in this update", not "gone" [gen]; `mergeAppServerRateLimits` keeps what the last
 *   one said. Stored with the source "rate-limits-event": it is codex's own rate-limit event, relayed.
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

export type RateLimitsSource = "rate-limits-event" | "rollout" | "app-server";

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
  const what =
    source === "rollout"
      ? "token_count rate_limits"
      : source === "app-server"
        ? "app-server rateLimits"
        : "codex.rate_limits event";
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
    source: source === "app-server" ? "rate-limits-event" : source,
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

/** The app-server's camelCase keys → the snapshot's own, for one level of an object. */
const APP_SERVER_KEYS: Readonly<Record<string, string>> = {
  limitId: "limit_id",
  limitName: "limit_name",
  usedPercent: "used_percent",
  windowDurationMins: "window_minutes",
  resetsAt: "resets_at",
  individualLimit: "individual_limit",
  remainingPercent: "remaining_percent",
  spendControlReached: "spend_control_reached",
  planType: "plan_type",
  rateLimitReachedType: "rate_limit_reached_type",
};

function snakeKeys(value: unknown, depth: number): unknown {
  if (!isObject(value) || depth === 0) return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    out[APP_SERVER_KEYS[key] ?? key] = snakeKeys(v, depth - 1);
  }
  return out;
}

/**
 * The app-server's `rateLimits` as a pool snapshot; null when it says nothing about the account
 * (see above). `limitReached`: the turn it came with failed on the usage limit.
 */
export function parseAppServerRateLimits(
  rateLimits: unknown,
  observedAt: Date,
  options: { limitReached?: boolean } = {},
): QuotaSnapshot | null {
  if (rateLimits !== null && rateLimits !== undefined && !isObject(rateLimits)) {
    fail("app-server rateLimits", "rateLimits is not an object");
  }
  return parseRateLimits(snakeKeys(rateLimits, 2), observedAt, "app-server", null, options);
}

/**
 * A sparse update laid over the last full picture of the same limit: a field the update leaves
 * null (or out) keeps its last value [gen]. Another limit id replaces the picture.
 */
export function mergeAppServerRateLimits(previous: unknown, update: unknown): unknown {
  if (!isObject(previous) || !isObject(update)) return update;
  if ((update["limitId"] ?? null) !== null && update["limitId"] !== previous["limitId"]) {
    return update;
  }
  const merged: Record<string, unknown> = { ...previous };
  for (const [key, value] of Object.entries(update)) {
    if (value !== null && value !== undefined) merged[key] = value;
  }
  return merged;
}
