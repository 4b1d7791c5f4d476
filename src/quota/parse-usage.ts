/**
 * Parser for `GET {backend}/wham/usage` (CODEX_CLI.md §2, CHATGPT_BACKEND.md §2.8):
 *
 *   {"plan_type":"plus","rate_limit":{"allowed":true,"limit_reached":false,
 *     "primary_window":{"used_percent":12,"limit_window_seconds":18000,"reset_after_seconds":3600,"reset_at":1795486637},
 *     "secondary_window":{…}}, "credits":{…}, "additional_rate_limits":[]}
 *
 * Window minutes = ceil(limit_window_seconds / 60); the reset is `reset_at` (epoch s), else
 * `reset_after_seconds` from the observation. The slots are not trusted for the kind: a window is
 * classified by its length. Fields we do not use (credits, additional limits) are not validated.
 */
import type { QuotaSnapshot, QuotaWindow } from "../pool/schema.js";
import {
  checkUsedPercent,
  checkWindowMinutes,
  fail,
  resetTime,
  isObject,
  optBoolean,
  optNumber,
  optObject,
  optString,
  type JsonObject,
} from "./fields.js";
import { makeWindow } from "./windows.js";

const WHAT = "usage answer";

function parseUsageWindow(raw: JsonObject, slot: string, observedAt: Date): QuotaWindow | null {
  const what = `${WHAT} ${slot}`;
  const used = optNumber(raw, "used_percent", what);
  const seconds = optNumber(raw, "limit_window_seconds", what);
  const resetAt = optNumber(raw, "reset_at", what);
  const resetAfter = optNumber(raw, "reset_after_seconds", what);
  // A window without its used percent says nothing we could act on; skipping it beats guessing 0.
  if (used === null) return null;
  const minutes = seconds === null ? null : checkWindowMinutes(seconds / 60, what);
  const resetsAt = resetTime(resetAt, resetAfter, observedAt, what);
  return makeWindow(minutes, checkUsedPercent(used, what), resetsAt);
}

/** Parses a /wham/usage body (already JSON-decoded). Throws QuotaParseError on garbage. */
export function parseUsageBody(body: unknown, observedAt: Date): QuotaSnapshot {
  if (!isObject(body)) fail(WHAT, "not a JSON object");
  const plan = optString(body, "plan_type", WHAT);
  const rateLimit = optObject(body, "rate_limit", WHAT);
  if (rateLimit === null) fail(WHAT, "it has no rate_limit");
  const windows: QuotaWindow[] = [];
  for (const slot of ["primary_window", "secondary_window"]) {
    const raw = optObject(rateLimit, slot, WHAT);
    const window = raw === null ? null : parseUsageWindow(raw, slot, observedAt);
    if (window !== null) windows.push(window);
  }
  const limitReached = optBoolean(rateLimit, "limit_reached", WHAT);
  const allowed = optBoolean(rateLimit, "allowed", WHAT);
  if (windows.length === 0 && limitReached !== true && allowed !== false) {
    fail(WHAT, "it carries no quota window");
  }
  return {
    observedAt: observedAt.toISOString(),
    source: "usage-api",
    plan,
    windows,
    limitReached: limitReached === true || allowed === false,
  };
}
