/**
 * Parser for the usage-limit error (CODEX_CLI.md §2, CHATGPT_BACKEND.md §2.9):
 *
 * - HTTP 429 body: {"error":{"type":"usage_limit_reached","plan_type":"plus","resets_at":<epoch s>,
 *   "resets_in_seconds":<s>, "message":…}} (`code` may stand in for `type`);
 * - WebSocket error frame: {"type":"error","status":429,"error":{…same…},"headers":{"x-codex-…":"100",…}}.
 *
 * Upstream proxies ignore `resets_in_seconds`; we read both and keep the later time, because the
 * account is not usable before every signal agrees. Any other error (e.g. `usage_not_included`, a
 * plain rate limit) is not a usage limit: null. A body that is not an error object is garbage.
 */
import type { QuotaSnapshot } from "../pool/schema.js";
import {
  QuotaParseError,
  afterSecondsToDate,
  epochToDate,
  fail,
  isObject,
  laterOf,
  optNumber,
  optObject,
  optString,
} from "./fields.js";
import { parseRateLimitHeaders, type HeaderSource } from "./parse-headers.js";

export interface UsageLimitHit {
  plan: string | null;
  /** When the limit lifts, if the error said; null when it did not. */
  resetsAt: Date | null;
  /** The service's own message, when present (e.g. "You've hit your usage limit…"). */
  message: string | null;
  /** A snapshot to store: limit reached, its reset, and any windows the headers carried. */
  snapshot: QuotaSnapshot;
}

const WHAT = "usage-limit error";
export const MAX_ERROR_BODY_CHARS = 64 * 1024;

function isUsageLimitCode(code: string | null): boolean {
  return code !== null && code.toLowerCase().includes("usage_limit");
}

/** Parses an already JSON-decoded 429 body, with the answer's headers when there were any. */
export function parseLimitErrorBody(
  body: unknown,
  observedAt: Date,
  headers?: HeaderSource,
): UsageLimitHit | null {
  if (!isObject(body)) fail(WHAT, "not a JSON object");
  const error = optObject(body, "error", WHAT);
  if (error === null) return null;
  const type = optString(error, "type", WHAT);
  const code = optString(error, "code", WHAT);
  if (!isUsageLimitCode(type) && !isUsageLimitCode(code)) return null;
  const at = optNumber(error, "resets_at", WHAT) ?? optNumber(error, "reset_at", WHAT);
  const inSeconds = optNumber(error, "resets_in_seconds", WHAT);
  const resetsAt = laterOf(
    at === null ? null : epochToDate(at, observedAt, WHAT),
    inSeconds === null ? null : afterSecondsToDate(inSeconds, observedAt, WHAT),
  );
  const plan = optString(error, "plan_type", WHAT);
  const fromHeaders =
    headers === undefined ? null : parseRateLimitHeaders(headers, observedAt, "429");
  return {
    plan: plan ?? fromHeaders?.plan ?? null,
    resetsAt,
    message: optString(error, "message", WHAT),
    snapshot: {
      observedAt: observedAt.toISOString(),
      source: "429",
      plan: plan ?? fromHeaders?.plan ?? null,
      windows: fromHeaders?.windows ?? [],
      limitReached: true,
      limitResetsAt: resetsAt === null ? null : resetsAt.toISOString(),
    },
  };
}

/** Parses the text of a 429 body; a body that is not JSON (or is oversized) is garbage. */
export function parseLimitErrorText(
  text: string,
  observedAt: Date,
  headers?: HeaderSource,
): UsageLimitHit | null {
  if (text.length > MAX_ERROR_BODY_CHARS) fail(WHAT, "the body is too large");
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new QuotaParseError(`${WHAT}: the body is not JSON`, { cause: error });
  }
  return parseLimitErrorBody(json, observedAt, headers);
}

/** A WebSocket `{"type":"error",…}` frame; null for any other frame or a non-usage error. */
export function parseLimitErrorFrame(frame: unknown, observedAt: Date): UsageLimitHit | null {
  if (!isObject(frame)) fail(WHAT, "the frame is not a JSON object");
  if (frame["type"] !== "error") return null;
  const status = optNumber(frame, "status", WHAT);
  if (status !== null && status !== 429) return null;
  const rawHeaders = optObject(frame, "headers", WHAT);
  const headers: Record<string, string> = {};
  if (rawHeaders !== null) {
    for (const [key, value] of Object.entries(rawHeaders)) {
      if (typeof value === "string" || typeof value === "number") headers[key] = String(value);
      else if (value !== null && value !== undefined) fail(WHAT, `header ${key} is not a string`);
    }
  }
  return parseLimitErrorBody(frame, observedAt, headers);
}
