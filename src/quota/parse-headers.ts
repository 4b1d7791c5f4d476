/**
 * Parser for the `x-codex-*` rate-limit headers of a Responses answer (CODEX_CLI.md §2,
 * CHATGPT_BACKEND.md §2.7), also carried in the `headers` object of a WebSocket error frame:
 *
 *   x-codex-{primary,secondary}-used-percent    float 0–100
 *   x-codex-{primary,secondary}-window-minutes  integer (300 = 5h, 10080 = weekly)
 *   x-codex-{primary,secondary}-reset-at        epoch s (or ms, or an HTTP/ISO date)
 *   x-codex-{primary,secondary}-reset-after-seconds  (not sent by the service today; read if present)
 *   x-codex-plan-type, x-codex-rate-limit-reached-type
 *
 * Returns null when no window header is present; throws QuotaParseError when one is garbage.
 */
import type { QuotaSnapshot, QuotaSource, QuotaWindow } from "../pool/schema.js";
import {
  afterSecondsToDate,
  checkUsedPercent,
  checkWindowMinutes,
  epochToDate,
  fail,
} from "./fields.js";
import { makeWindow } from "./windows.js";

export type HeaderSource =
  Headers | Readonly<Record<string, string | readonly string[] | number | undefined>>;

const WHAT = "x-codex headers";
const NUMBER = /^\s*\d+(?:\.\d+)?\s*$/;
const MAX_HEADER_LENGTH = 100;

/** A case-insensitive single-value reader over either header representation. */
function headerReader(headers: HeaderSource): (name: string) => string | null {
  if (headers instanceof Headers) return (name) => headers.get(name);
  const lower = new Map<string, string>();
  for (const [key, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    const text = Array.isArray(value) ? value.join(", ") : String(value);
    lower.set(key.toLowerCase(), text);
  }
  return (name) => lower.get(name) ?? null;
}

function numberHeader(get: (n: string) => string | null, name: string): number | null {
  const raw = get(name);
  if (raw === null || raw.trim() === "") return null;
  if (raw.length > MAX_HEADER_LENGTH || !NUMBER.test(raw)) fail(WHAT, `${name} is not a number`);
  return Number(raw);
}

function dateHeader(
  get: (n: string) => string | null,
  name: string,
  observedAt: Date,
): Date | null {
  const raw = get(name);
  if (raw === null || raw.trim() === "") return null;
  if (raw.length > MAX_HEADER_LENGTH) fail(WHAT, `${name} is too long`);
  if (NUMBER.test(raw)) return epochToDate(Number(raw), observedAt, `${WHAT} ${name}`);
  const ms = Date.parse(raw);
  if (Number.isNaN(ms)) fail(WHAT, `${name} is not a time`);
  return epochToDate(ms, observedAt, `${WHAT} ${name}`);
}

function slotWindow(
  get: (n: string) => string | null,
  slot: "primary" | "secondary",
  observedAt: Date,
): QuotaWindow | null {
  const p = `x-codex-${slot}-`;
  const used = numberHeader(get, `${p}used-percent`);
  const minutes = numberHeader(get, `${p}window-minutes`);
  const after = numberHeader(get, `${p}reset-after-seconds`);
  const at = dateHeader(get, `${p}reset-at`, observedAt);
  if (used === null) return null;
  const what = `${WHAT} ${slot}`;
  const resetsAt = after !== null ? afterSecondsToDate(after, observedAt, what) : at;
  return makeWindow(
    minutes === null ? null : checkWindowMinutes(minutes, what),
    checkUsedPercent(used, what),
    resetsAt,
  );
}

export function parseRateLimitHeaders(
  headers: HeaderSource,
  observedAt: Date,
  source: QuotaSource = "headers",
): QuotaSnapshot | null {
  const get = headerReader(headers);
  const windows: QuotaWindow[] = [];
  for (const slot of ["primary", "secondary"] as const) {
    const w = slotWindow(get, slot, observedAt);
    if (w !== null) windows.push(w);
  }
  if (windows.length === 0) return null;
  const plan = get("x-codex-plan-type")?.trim() || null;
  const reached = get("x-codex-rate-limit-reached-type")?.trim() ?? "";
  return {
    observedAt: observedAt.toISOString(),
    source,
    plan,
    windows,
    limitReached: reached !== "",
  };
}
