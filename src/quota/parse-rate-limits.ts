/**
 * Parser for the rate-limit snapshot codex itself passes around, in two wrappers that share it:
 *
 * - the `codex.rate_limits` WebSocket event (CODEX_CLI.md §2):
 *   {"type":"codex.rate_limits","plan_type":"plus","rate_limits":{"primary":{"used_percent","window_minutes","reset_at"},"secondary":{…}},"credits":{…}}
 * - the `rate_limits` of a rollout `token_count` event (CODEX_CLI.md §3):
 *   {"limit_id":"codex","primary":{"used_percent":100.0,"window_minutes":300,"resets_at":…},"secondary":{…},"plan_type":"plus"}
 *
 * The reset field is `reset_at` in one and `resets_at` in the other (epoch s); older codex wrote
 * `resets_in_seconds`. Returns null when there is no window; throws QuotaParseError on garbage.
 */
import type { QuotaSnapshot, QuotaWindow } from "../pool/schema.js";
import {
  checkUsedPercent,
  checkWindowMinutes,
  fail,
  resetTime,
  isObject,
  optNumber,
  optObject,
  optString,
  type JsonObject,
} from "./fields.js";
import { makeWindow } from "./windows.js";

/** The limit codex's quota lives under; snapshots of other meters must not overwrite it. */
const MAIN_LIMIT_ID = "codex";

function parseWindow(raw: JsonObject, what: string, observedAt: Date): QuotaWindow | null {
  const used = optNumber(raw, "used_percent", what);
  const minutes = optNumber(raw, "window_minutes", what);
  const at = optNumber(raw, "resets_at", what) ?? optNumber(raw, "reset_at", what);
  const inSeconds = optNumber(raw, "resets_in_seconds", what);
  if (used === null) return null;
  const resetsAt = resetTime(at, inSeconds, observedAt, what);
  return makeWindow(
    minutes === null ? null : checkWindowMinutes(minutes, what),
    checkUsedPercent(used, what),
    resetsAt,
  );
}

/**
 * Parses the inner `{primary, secondary, plan_type?, limit_id?}` object. `plan` is the wrapper's
 * plan when the object itself has none.
 */
export function parseRateLimits(
  rateLimits: unknown,
  observedAt: Date,
  source: "rate-limits-event" | "rollout",
  plan: string | null = null,
): QuotaSnapshot | null {
  const what = source === "rollout" ? "token_count rate_limits" : "codex.rate_limits event";
  if (rateLimits === null || rateLimits === undefined) return null;
  if (!isObject(rateLimits)) fail(what, "rate_limits is not an object");
  const limitId = optString(rateLimits, "limit_id", what);
  if (limitId !== null && limitId !== MAIN_LIMIT_ID) return null;
  const windows: QuotaWindow[] = [];
  for (const slot of ["primary", "secondary"]) {
    const raw = optObject(rateLimits, slot, what);
    const w = raw === null ? null : parseWindow(raw, `${what} ${slot}`, observedAt);
    if (w !== null) windows.push(w);
  }
  if (windows.length === 0) return null;
  return {
    observedAt: observedAt.toISOString(),
    source,
    plan: optString(rateLimits, "plan_type", what) ?? plan,
    windows,
    limitReached: false,
  };
}

/** A `codex.rate_limits` event; null for any other event type or an event without windows. */
export function parseRateLimitsEvent(event: unknown, observedAt: Date): QuotaSnapshot | null {
  const what = "codex.rate_limits event";
  if (!isObject(event)) fail(what, "not a JSON object");
  if (event["type"] !== "codex.rate_limits") return null;
  const plan = optString(event, "plan_type", what);
  return parseRateLimits(event["rate_limits"], observedAt, "rate-limits-event", plan);
}

/** The `rate_limits` object of a rollout `token_count` event (the supervisor's cheapest source). */
export function parseTokenCountRateLimits(
  rateLimits: unknown,
  observedAt: Date,
): QuotaSnapshot | null {
  return parseRateLimits(rateLimits, observedAt, "rollout");
}
