/**
 * The one reader of the backend's error answers, in each wrapper they come in (docs/chatgpt-backend.md
 * §2.9, §3.3, docs/codex-cli.md §2):
 * - an HTTP answer: a status, a JSON body `{"error":{"type"|"code","message",…}}` (or
 *   `{"detail":…}`), and headers (`x-codex-*`, `retry-after`, `x-error-json`);
 * - a WebSocket error frame `{"type":"error","status_code"|"status":429,"error":{…},"headers":{…}}`;
 * - an SSE `response.failed` event `{"type":"response.failed","response":{"error":{…}}}`, which
 *   may carry only `resets_in_seconds`.
 *
 * Errors that mean different things are told apart, because each is treated differently:
 * - `usage-limit` (`usage_limit_reached`): the account is out until the reset — a quota snapshot;
 * - `not-included` (`usage_not_included`, "not included in your plan"): permanent for that
 *   account and model, never waited for;
 * - `throttled` (`rate_limit_exceeded` in `error.code`): a short throttle whose delay is only in
 *   the message ("try again in 11.054s"); not a quota, the account stays usable;
 * - `login-dead` (`token_invalidated`, a revoked token): needs a new login, no refresh attempt;
 * - `unauthorized` (any other 401, e.g. `token_expired` in an `x-error-json` header): refresh;
 * - `other`.
 */
import { LOGIN_DEAD_CODES, safeCode, saysRevoked } from "../auth/error-codes.js";
import type { QuotaSnapshot } from "../pool/schema.js";
import {
  afterSecondsToDate,
  epochToDate,
  isObject,
  laterOf,
  optNumber,
  optString,
  type JsonObject,
} from "./fields.js";
import { isHeaderList, parseRateLimitHeaders, type HeaderSource } from "./parse-headers.js";

export interface UsageLimitHit {
  plan: string | null;
  /** When the limit lifts, if the error said; null when it did not. */
  resetsAt: Date | null;
  /** The service's own message, when present (e.g. "You’ve hit your usage limit…"). */
  message: string | null;
  /** A snapshot to store: limit reached, its reset, and any windows the headers carried. */
  snapshot: QuotaSnapshot;
}

export type ServiceError =
  | { readonly kind: "usage-limit"; readonly hit: UsageLimitHit }
  | { readonly kind: "not-included"; readonly plan: string | null; readonly message: string | null }
  | {
      readonly kind: "throttled";
      readonly retryAfterMs: number | null;
      readonly message: string | null;
    }
  | { readonly kind: "login-dead"; readonly code: string }
  | { readonly kind: "unauthorized"; readonly code: string | null }
  | {
      readonly kind: "other";
      readonly status: number | null;
      readonly code: string | null;
      readonly message: string | null;
    };

const WHAT = "usage-limit error";
export const MAX_ERROR_BODY_CHARS = 64 * 1024;
const MAX_WAIT_MS = 7 * 24 * 3600_000;
const NOT_INCLUDED_PHRASES = ["not included in your plan", "subscription does not include"];

function headerGetter(headers: HeaderSource | undefined): (name: string) => string | null {
  if (headers === undefined) return () => null;
  if (isHeaderList(headers)) return (name) => headers.get(name);
  const lower = new Map<string, string>();
  for (const [k, v] of Object.entries(headers)) {
    if (v !== undefined) lower.set(k.toLowerCase(), Array.isArray(v) ? v.join(", ") : String(v));
  }
  return (name) => lower.get(name) ?? null;
}

/** "try again in 11.054s", "in 1m30s", "in 20ms", "in 2 minutes" → milliseconds. */
export function delayFromMessage(message: string | null): number | null {
  if (message === null) return null;
  const phrase = /try again in\s+((?:\d+(?:\.\d+)?\s*[a-z]+\s*)+)/i.exec(message)?.[1];
  if (phrase === undefined) return null;
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  let matched = false;
  for (const [, num, unit] of phrase.matchAll(/(\d+(?:\.\d+)?)\s*([a-z]+)/gi)) {
    const u = (unit ?? "").toLowerCase();
    const key = u.startsWith("ms") || u.startsWith("milli") ? "ms" : (u[0] ?? "");
    const scale = units[key];
    if (scale === undefined) break;
    total += Number(num) * scale;
    matched = true;
  }
  return matched ? Math.min(Math.round(total), MAX_WAIT_MS) : null;
}

/** The first of: body retry_after_ms / retry_after (s), header retry-after-ms / retry-after, the text. */
function retryAfterMs(
  error: JsonObject,
  get: (n: string) => string | null,
  message: string | null,
): number | null {
  const clamp = (ms: number): number => Math.max(0, Math.min(ms, MAX_WAIT_MS));
  const inBody = typeof error["retry_after_ms"] === "number" ? error["retry_after_ms"] : null;
  if (inBody !== null) return clamp(inBody);
  if (typeof error["retry_after"] === "number") return clamp(error["retry_after"] * 1000);
  const ms = Number(get("retry-after-ms") ?? "NaN");
  if (Number.isFinite(ms)) return clamp(ms);
  const s = Number(get("retry-after") ?? "NaN");
  if (Number.isFinite(s)) return clamp(s * 1000);
  return delayFromMessage(message);
}

/** The code an `x-error-json` header (base64 JSON `{"error":{"code":…}}`) carries, if any. */
function codeFromErrorJsonHeader(value: string | null): string | null {
  if (value === null || value.length > 4096) return null;
  try {
    const json: unknown = JSON.parse(Buffer.from(value, "base64").toString("utf8"));
    if (!isObject(json)) return null;
    const error = json["error"];
    return isObject(error)
      ? safeCode(typeof error["code"] === "string" ? error["code"] : null)
      : null;
  } catch {
    return null; // not base64 JSON: the header says nothing we can use
  }
}

function usageLimit(
  error: JsonObject,
  observedAt: Date,
  headers: HeaderSource | undefined,
): UsageLimitHit {
  const at = optNumber(error, "resets_at", WHAT) ?? optNumber(error, "reset_at", WHAT);
  const inSeconds = optNumber(error, "resets_in_seconds", WHAT);
  // Upstream proxies ignore resets_in_seconds; both are read and the later kept, because the
  // account is not usable before every signal agrees.
  const resetsAt = laterOf(
    at === null || at === 0 ? null : epochToDate(at, observedAt, WHAT),
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
      ...(fromHeaders?.sideLimits?.length ? { sideLimits: fromHeaders.sideLimits } : {}),
      limitReached: true,
      limitResetsAt: resetsAt === null ? null : resetsAt.toISOString(),
    },
  };
}

function textOf(value: unknown): string | null {
  return typeof value === "string" ? value : null;
}

/**
 * Classifies an error answer. `status` is the HTTP (or frame) status, null when the wrapper has
 * none (an SSE failure). Throws QuotaParseError only when a usage-limit error's reset is garbage.
 */
export function classifyServiceError(
  status: number | null,
  body: unknown,
  observedAt: Date,
  headers?: HeaderSource,
): ServiceError {
  const get = headerGetter(headers);
  const root: JsonObject = isObject(body) ? body : {};
  const error: JsonObject = isObject(root["error"]) ? root["error"] : {};
  const type = safeCode(textOf(error["type"]));
  const code =
    safeCode(textOf(error["code"])) ??
    safeCode(textOf(root["error"])) ??
    safeCode(textOf(root["code"])) ??
    codeFromErrorJsonHeader(get("x-error-json"));
  const message =
    textOf(error["message"]) ?? textOf(root["detail"]) ?? textOf(root["message"]) ?? null;
  const lowerMessage = (message ?? "").toLowerCase();
  const names = [type, code].filter((n): n is string => n !== null).map((n) => n.toLowerCase());
  const plan = textOf(error["plan_type"]);

  if (
    names.includes("usage_not_included") ||
    NOT_INCLUDED_PHRASES.some((p) => lowerMessage.includes(p))
  ) {
    return { kind: "not-included", plan, message };
  }
  if (names.some((n) => n.includes("usage_limit"))) {
    return { kind: "usage-limit", hit: usageLimit(error, observedAt, headers) };
  }
  if (names.includes("rate_limit_exceeded")) {
    return { kind: "throttled", retryAfterMs: retryAfterMs(error, get, message), message };
  }
  const dead = names.find((n) => LOGIN_DEAD_CODES.has(n));
  if (dead !== undefined) return { kind: "login-dead", code: dead };
  if (status === 401) {
    if (saysRevoked(message ?? "")) return { kind: "login-dead", code: "token_invalidated" };
    return { kind: "unauthorized", code };
  }
  return { kind: "other", status, code, message };
}

/** The text of an HTTP error answer; a body that is not JSON is classified on status alone. */
export function classifyErrorText(
  status: number,
  text: string,
  observedAt: Date,
  headers?: HeaderSource,
): ServiceError {
  let json: unknown = null;
  if (text.length <= MAX_ERROR_BODY_CHARS) {
    try {
      json = JSON.parse(text);
    } catch {
      json = null; // an HTML error page or plain text: only the status and headers speak
    }
  }
  return classifyServiceError(status, json, observedAt, headers);
}

/** A WebSocket `{"type":"error",…}` frame; null for any other frame. */
export function classifyErrorFrame(frame: unknown, observedAt: Date): ServiceError | null {
  if (!isObject(frame) || frame["type"] !== "error") return null;
  const rawStatus = frame["status_code"] ?? frame["status"];
  const status = typeof rawStatus === "number" ? rawStatus : null;
  const headers: Record<string, string> = {};
  if (isObject(frame["headers"])) {
    for (const [key, value] of Object.entries(frame["headers"])) {
      if (typeof value === "string" || typeof value === "number") headers[key] = String(value);
    }
  }
  return classifyServiceError(status, frame, observedAt, headers);
}

/** An SSE `response.failed` event; null for any other event. */
export function classifyStreamFailure(event: unknown, observedAt: Date): ServiceError | null {
  if (!isObject(event) || event["type"] !== "response.failed") return null;
  const response = isObject(event["response"]) ? event["response"] : {};
  return classifyServiceError(null, { error: response["error"] ?? event["error"] }, observedAt);
}

/** The usage-limit hit of an error answer, or null when it is another error. */
export function usageLimitOf(error: ServiceError): UsageLimitHit | null {
  return error.kind === "usage-limit" ? error.hit : null;
}
