/**
 * Parser for the rate-limit headers of a Responses answer (docs/codex-cli.md §2,
 * docs/chatgpt-backend.md §2.7, §3.2), also carried in the `headers` object of a WebSocket error
 * frame. Headers come in families, `x-<family>-<slot>-<field>`:
 *
 *   x-codex-{primary,secondary}-used-percent           float 0–100
 *   x-codex-{primary,secondary}-window-minutes         integer; 0 = no such window
 *   x-codex-{primary,secondary}-reset-at               epoch s (or ms, or an HTTP/ISO date); may be empty
 *   x-codex-{primary,secondary}-reset-after-seconds    sent by the service; takes precedence
 *   x-codex-plan-type, x-codex-rate-limit-reached-type, x-codex-active-limit, x-codex-credits-*
 *
 * `x-codex-*` is the account. Other families (`x-codex-bengalfox-*`, with `…-limit-name`) are
 * per-model limits, kept as side limits that never block; `x-codex-secondary-primary-used-percent`
 * is the primary window of the family `codex-secondary`, not the secondary window of `codex`.
 * Names arrive in any case, booleans as "True"/"False", values may be empty.
 *
 * Returns null when the account family has no window; throws QuotaParseError when one of its
 * numbers is garbage (a side family's garbage drops that family only).
 */
import type { QuotaSnapshot, QuotaSource, QuotaWindow, SideLimit } from "../pool/schema.js";
import {
  QuotaParseError,
  afterSecondsToDate,
  checkUsedPercent,
  checkWindowMinutes,
  epochToDate,
  fail,
} from "./fields.js";
import { makeWindow } from "./windows.js";

/**
 * Headers that can be walked and read: the fetch API's `Headers`, or our HTTP client's
 * (src/platform/http.ts). Told apart from a plain record by shape, not `instanceof Headers`: the
 * global `Headers` is undici's, and naming it loads undici (docs/decisions.md performance targets).
 */
export interface HeaderList {
  forEach(callback: (value: string, key: string) => void): void;
  get(name: string): string | null;
}

export type HeaderSource =
  HeaderList | Readonly<Record<string, string | readonly string[] | number | undefined>>;

export function isHeaderList(headers: HeaderSource): headers is HeaderList {
  return typeof (headers as { forEach?: unknown }).forEach === "function";
}

const WHAT = "x-codex headers";
const NUMBER = /^\s*-?\d+(?:\.\d+)?\s*$/;
const MAX_HEADER_LENGTH = 100;
const ACCOUNT_FAMILY = "codex";
const WINDOW_HEADER =
  /^x-(.+)-(primary|secondary)-(used-percent|window-minutes|reset-at|reset-after-seconds)$/;
/** Values of `…-rate-limit-reached-type` that mean nothing is reached. */
const NOT_REACHED = new Set(["", "none", "null", "false"]);

type Get = (name: string) => string | null;

/** All headers, names lower-cased, values as one string each. */
function headerMap(headers: HeaderSource): Map<string, string> {
  const map = new Map<string, string>();
  if (isHeaderList(headers)) {
    headers.forEach((value, key) => map.set(key.toLowerCase(), value));
    return map;
  }
  for (const [key, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    const text = Array.isArray(value) ? value.join(", ") : String(value);
    map.set(key.toLowerCase(), text);
  }
  return map;
}

function numberHeader(get: Get, name: string): number | null {
  const raw = get(name);
  if (raw === null || raw.trim() === "") return null;
  if (raw.length > MAX_HEADER_LENGTH || !NUMBER.test(raw)) fail(WHAT, `${name} is not a number`);
  return Number(raw);
}

function dateHeader(get: Get, name: string, observedAt: Date): Date | null {
  const raw = get(name);
  if (raw === null || raw.trim() === "") return null;
  if (raw.length > MAX_HEADER_LENGTH) fail(WHAT, `${name} is too long`);
  if (NUMBER.test(raw)) {
    const value = Number(raw);
    return value === 0 ? null : epochToDate(value, observedAt, `${WHAT} ${name}`);
  }
  const ms = Date.parse(raw);
  if (Number.isNaN(ms)) fail(WHAT, `${name} is not a time`);
  return epochToDate(ms, observedAt, `${WHAT} ${name}`);
}

function slotWindow(
  get: Get,
  family: string,
  slot: "primary" | "secondary",
  observedAt: Date,
): QuotaWindow | null {
  const p = `x-${family}-${slot}-`;
  const used = numberHeader(get, `${p}used-percent`);
  const minutes = numberHeader(get, `${p}window-minutes`);
  const after = numberHeader(get, `${p}reset-after-seconds`);
  const at = dateHeader(get, `${p}reset-at`, observedAt);
  // A zero-length window is the service's way of saying there is none (§3.2).
  if (used === null || minutes === 0) return null;
  const what = `${WHAT} ${family} ${slot}`;
  const resetsAt = after !== null && after > 0 ? afterSecondsToDate(after, observedAt, what) : at;
  return makeWindow(
    minutes === null ? null : checkWindowMinutes(minutes, what),
    checkUsedPercent(used, what),
    resetsAt,
  );
}

function familyWindows(get: Get, family: string, observedAt: Date): QuotaWindow[] {
  const out: QuotaWindow[] = [];
  for (const slot of ["primary", "secondary"] as const) {
    const w = slotWindow(get, family, slot, observedAt);
    if (w !== null) out.push(w);
  }
  return out;
}

function isReached(value: string | null): boolean {
  return value !== null && !NOT_REACHED.has(value.trim().toLowerCase());
}

function sideFamilies(map: Map<string, string>, get: Get, observedAt: Date): SideLimit[] {
  const families = new Set<string>();
  for (const name of map.keys()) {
    const family = WINDOW_HEADER.exec(name)?.[1];
    if (family !== undefined && family !== ACCOUNT_FAMILY) families.add(family);
  }
  const out: SideLimit[] = [];
  for (const family of [...families].sort()) {
    try {
      const windows = familyWindows(get, family, observedAt);
      if (windows.length === 0) continue;
      const name = get(`x-${family}-limit-name`)?.trim() || null;
      out.push({
        scope: "model",
        name,
        feature: family,
        windows,
        limitReached: isReached(get(`x-${family}-rate-limit-reached-type`)),
      });
    } catch (error) {
      if (!(error instanceof QuotaParseError)) throw error;
    }
  }
  return out;
}

export function parseRateLimitHeaders(
  headers: HeaderSource,
  observedAt: Date,
  source: QuotaSource = "headers",
): QuotaSnapshot | null {
  const map = headerMap(headers);
  const get: Get = (name) => map.get(name) ?? null;
  const windows = familyWindows(get, ACCOUNT_FAMILY, observedAt);
  if (windows.length === 0) return null;
  const reached = get("x-codex-rate-limit-reached-type");
  return {
    observedAt: observedAt.toISOString(),
    source,
    plan: get("x-codex-plan-type")?.trim() || null,
    windows,
    sideLimits: sideFamilies(map, get, observedAt),
    limitReached: isReached(reached),
    reachedType: isReached(reached) ? (reached?.trim() ?? null) : null,
  };
}
