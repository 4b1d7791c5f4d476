/**
 * Field readers shared by the quota parsers. They are tolerant of absence (undefined/null → null)
 * and of the forms the real service uses (numbers sent as strings, docs/chatgpt-backend.md §3.1),
 * and strict about garbage: a field of the wrong type or out of range throws QuotaParseError, so a
 * malformed answer is classified instead of silently read as "0 % used".
 */
import { MalformedResponseError } from "../platform/errors.js";

export class QuotaParseError extends MalformedResponseError {}

/** Epoch values below this are seconds, above it milliseconds (1e10 s is the year 2286). */
const EPOCH_MS_THRESHOLD = 1e10;
/** Reset times further than this from the observation are garbage, not a plan (weekly is 7 d). */
const MAX_RESET_DISTANCE_MS = 400 * 24 * 3600 * 1000;

export type JsonObject = Record<string, unknown>;

export function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function fail(what: string, detail: string): never {
  throw new QuotaParseError(`${what}: ${detail}`);
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return "an array";
  if (value === null) return "null";
  if (typeof value === "string") return value.length > 24 ? "a long string" : `"${value}"`;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return `an ${typeof value}`;
}

/** An optional object field: absent/null → null; anything but an object → error. */
export function optObject(obj: JsonObject, key: string, what: string): JsonObject | null {
  const value = obj[key];
  if (value === undefined || value === null) return null;
  if (!isObject(value)) fail(what, `${key} is ${describe(value)}, not an object`);
  return value;
}

/** A decimal number as text: "700", "1811.96", "-3", "1e3" (what the service puts in strings). */
const NUMERIC_TEXT = /^\s*-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?\s*$/;

/** An optional finite number, given as a JSON number or a numeric string ("" counts as absent). */
export function optNumber(obj: JsonObject, key: string, what: string): number | null {
  const value = obj[key];
  if (value === undefined || value === null) return null;
  if (typeof value === "string") {
    if (value.trim() === "") return null;
    if (value.length <= 40 && NUMERIC_TEXT.test(value)) return Number(value);
  } else if (typeof value === "number" && Number.isFinite(value)) {
    return value;
  }
  return fail(what, `${key} is ${describe(value)}, not a number`);
}

export function optString(obj: JsonObject, key: string, what: string): string | null {
  const value = obj[key];
  if (value === undefined || value === null) return null;
  if (typeof value !== "string") fail(what, `${key} is ${describe(value)}, not a string`);
  return value;
}

/** An optional boolean; "true"/"True"/"false"/"False" count too (header-style values). */
export function optBoolean(obj: JsonObject, key: string, what: string): boolean | null {
  const value = obj[key];
  if (value === undefined || value === null) return null;
  if (typeof value === "boolean") return value;
  if (typeof value === "string") {
    const b = parseBooleanText(value);
    if (b !== undefined) return b;
  }
  return fail(what, `${key} is ${describe(value)}, not a boolean`);
}

/** "True"/"true"/"1" → true, "False"/"false"/"0" → false, "" → null, anything else undefined. */
export function parseBooleanText(text: string): boolean | null | undefined {
  const t = text.trim().toLowerCase();
  if (t === "") return null;
  if (t === "true" || t === "1") return true;
  if (t === "false" || t === "0") return false;
  return undefined;
}

/** A used percentage: negative is garbage; above 100 happens (overage) and means "all used". */
export function checkUsedPercent(value: number, what: string): number {
  if (value < 0) fail(what, `used percent ${value} is negative`);
  return Math.min(100, value);
}

/**
 * A window length in whole minutes (rounded up, as codex does); zero, negative or absurd lengths
 * are garbage. A zero length that means "no such window" is the parsers' to skip before this.
 */
export function checkWindowMinutes(value: number, what: string): number {
  const minutes = Math.ceil(value);
  if (minutes <= 0 || minutes > 366 * 24 * 60)
    fail(what, `window length ${value} min is not a window`);
  return minutes;
}

/** Epoch seconds (or milliseconds, by magnitude) → Date, checked to be near the observation. */
export function epochToDate(value: number, observedAt: Date, what: string): Date {
  if (value <= 0) fail(what, `reset time ${value} is not a time`);
  const ms = value < EPOCH_MS_THRESHOLD ? value * 1000 : value;
  return checkResetDistance(new Date(ms), observedAt, what);
}

/** Seconds from the observation → Date. */
export function afterSecondsToDate(seconds: number, observedAt: Date, what: string): Date {
  if (seconds < 0) fail(what, `reset in ${seconds} s is negative`);
  return checkResetDistance(new Date(observedAt.getTime() + seconds * 1000), observedAt, what);
}

/**
 * A reset time from an epoch (preferred) or from seconds to wait; null when neither is given. An
 * epoch of 0 is the wire's "none" (a window that does not exist), not the year 1970.
 */
export function resetTime(
  epoch: number | null,
  afterSeconds: number | null,
  observedAt: Date,
  what: string,
): Date | null {
  if (epoch !== null && epoch !== 0) return epochToDate(epoch, observedAt, what);
  if (afterSeconds !== null) return afterSecondsToDate(afterSeconds, observedAt, what);
  return null;
}

function checkResetDistance(date: Date, observedAt: Date, what: string): Date {
  if (
    Number.isNaN(date.getTime()) ||
    Math.abs(date.getTime() - observedAt.getTime()) > MAX_RESET_DISTANCE_MS
  ) {
    fail(what, "reset time is out of range");
  }
  return date;
}

/** The later of two optional dates (a reset is not over before every source agrees it is). */
export function laterOf(a: Date | null, b: Date | null): Date | null {
  if (a === null) return b;
  if (b === null) return a;
  return a.getTime() >= b.getTime() ? a : b;
}
