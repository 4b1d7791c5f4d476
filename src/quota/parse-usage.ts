/**
 * Parser for `GET {backend}/wham/usage` (docs/chatgpt-backend.md §2.8, §3.1):
 *
 *   {"plan_type":"plus","rate_limit":{"allowed":true,"limit_reached":false,
 *     "primary_window":{"used_percent":12,"limit_window_seconds":18000,"reset_after_seconds":3600,"reset_at":1795486637},
 *     "secondary_window":{…} | null, "individual_limit":{…}?},
 *    "spend_control":{"reached":true,"individual_limit":{…}}?, "rate_limit_reached_type":{…}?,
 *    "code_review_rate_limit":{…same as rate_limit…}?, "additional_rate_limits":[{limit_name,
 *    metered_feature, rate_limit}]?, "credits":{…}}
 *
 * What the real service answers, and how it is read:
 * - any number of windows (none, weekly-only in `primary_window`, 30-day), each classified by its
 *   length with a tolerance, never by its slot;
 * - `rate_limit: null` with a reached `spend_control` (a business seat over its cap), or windows
 *   `null` beside `rate_limit.individual_limit` (an enterprise credit allowance): allowances;
 * - `allowed` and `limit_reached` may disagree: `limit_reached` and the numbers are believed;
 * - per-model limits and the code-review limit are kept as side limits, which never block; one
 *   that cannot be read is dropped rather than failing the whole answer;
 * - numbers as strings, floats, percentages past 100, nulls anywhere, unknown plan types.
 * Throws QuotaParseError when a field the account's usability depends on is garbage.
 */
import type { Allowance, QuotaSnapshot, QuotaWindow, SideLimit } from "../pool/schema.js";
import {
  QuotaParseError,
  fail,
  isObject,
  optBoolean,
  optObject,
  optString,
  type JsonObject,
} from "./fields.js";
import {
  parseAllowanceObject,
  parseWindowObject,
  reachedSpendCap,
  reachedTypeOf,
} from "./parse-parts.js";

const WHAT = "usage answer";
const SLOTS = ["primary_window", "secondary_window"] as const;

function windowsOf(rateLimit: JsonObject, what: string, observedAt: Date): QuotaWindow[] {
  const windows: QuotaWindow[] = [];
  for (const slot of SLOTS) {
    const raw = optObject(rateLimit, slot, what);
    const window = raw === null ? null : parseWindowObject(raw, `${what} ${slot}`, observedAt);
    if (window !== null) windows.push(window);
  }
  return windows;
}

function allowancesOf(
  body: JsonObject,
  rateLimit: JsonObject | null,
  observedAt: Date,
): Allowance[] {
  const out: Allowance[] = [];
  const spend = optObject(body, "spend_control", WHAT);
  if (spend !== null) {
    const what = `${WHAT} spend_control`;
    const reached = optBoolean(spend, "reached", what);
    const inner = optObject(spend, "individual_limit", what);
    if (inner !== null) {
      out.push(parseAllowanceObject(inner, "spend-cap", reached, what, observedAt));
    } else if (reached === true) {
      out.push(reachedSpendCap());
    }
  }
  const individual = rateLimit === null ? null : optObject(rateLimit, "individual_limit", WHAT);
  if (individual !== null) {
    const what = `${WHAT} individual_limit`;
    out.push(parseAllowanceObject(individual, "credit-limit", null, what, observedAt));
  }
  return out;
}

/** A side limit, or null when it cannot be read: it never blocks, so it never fails the answer. */
function sideLimit(
  scope: SideLimit["scope"],
  name: string | null,
  feature: string | null,
  rateLimit: JsonObject | null,
  observedAt: Date,
): SideLimit | null {
  try {
    const what = `${WHAT} ${scope} limit`;
    return {
      scope,
      name,
      feature,
      windows: rateLimit === null ? [] : windowsOf(rateLimit, what, observedAt),
      limitReached:
        rateLimit === null ? false : optBoolean(rateLimit, "limit_reached", what) === true,
    };
  } catch (error) {
    if (error instanceof QuotaParseError) return null;
    throw error;
  }
}

function sideLimitsOf(body: JsonObject, observedAt: Date): SideLimit[] {
  const out: SideLimit[] = [];
  const review = body["code_review_rate_limit"];
  if (isObject(review)) {
    const limit = sideLimit("code-review", null, null, review, observedAt);
    if (limit !== null) out.push(limit);
  }
  const extra = body["additional_rate_limits"];
  if (Array.isArray(extra)) {
    for (const entry of extra) {
      if (!isObject(entry)) continue;
      const text = (key: string): string | null => {
        const value = entry[key];
        return typeof value === "string" ? value : null;
      };
      const rateLimit = isObject(entry["rate_limit"]) ? entry["rate_limit"] : null;
      const limit = sideLimit(
        "model",
        text("limit_name"),
        text("metered_feature"),
        rateLimit,
        observedAt,
      );
      if (limit !== null) out.push(limit);
    }
  }
  return out;
}

/** Parses a /wham/usage body (already JSON-decoded). Throws QuotaParseError on garbage. */
export function parseUsageBody(body: unknown, observedAt: Date): QuotaSnapshot {
  if (!isObject(body)) fail(WHAT, "not a JSON object");
  const plan = optString(body, "plan_type", WHAT);
  const rateLimit = optObject(body, "rate_limit", WHAT);
  const windows = rateLimit === null ? [] : windowsOf(rateLimit, WHAT, observedAt);
  const limitReached =
    rateLimit === null ? false : optBoolean(rateLimit, "limit_reached", WHAT) === true;
  // `allowed` is read only to be checked: when it disagrees with limit_reached, the numbers and
  // limit_reached decide (docs/chatgpt-backend.md §3.1).
  if (rateLimit !== null) optBoolean(rateLimit, "allowed", WHAT);
  return {
    observedAt: observedAt.toISOString(),
    source: "usage-api",
    plan,
    windows,
    allowances: allowancesOf(body, rateLimit, observedAt),
    sideLimits: sideLimitsOf(body, observedAt),
    limitReached,
    reachedType: reachedTypeOf(
      body["rate_limit_reached_type"] ?? rateLimit?.["rate_limit_reached_type"],
    ),
  };
}
