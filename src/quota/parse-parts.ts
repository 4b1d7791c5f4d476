/**
 * The pieces the JSON quota formats share, read once: a window object and an allowance object.
 * - A window is `{used_percent, limit_window_seconds, reset_at, reset_after_seconds}` in
 *   /wham/usage and `{used_percent, window_minutes, resets_at | reset_at, resets_in_seconds}` in
 *   codex's rate-limit snapshots (docs/chatgpt-backend.md §2.8, §3.1, docs/codex-cli.md §3).
 * - An allowance is `{limit, used, remaining, used_percent | remaining_percent, reset_after_seconds,
 *   reset_at | resets_at}`, numbers often as strings, percentages past 100 (§3.1).
 * A zero length is "no such window"; a window without its used percent says nothing we could act
 * on and is skipped rather than read as 0 %.
 */
import type { Allowance, AllowanceKind, QuotaWindow } from "../pool/schema.js";
import {
  checkUsedPercent,
  checkWindowMinutes,
  fail,
  optBoolean,
  optNumber,
  resetTime,
  type JsonObject,
} from "./fields.js";
import { makeWindow } from "./windows.js";

/** One window object of either JSON format; null for "no such window" or one without numbers. */
export function parseWindowObject(
  raw: JsonObject,
  what: string,
  observedAt: Date,
): QuotaWindow | null {
  const used = optNumber(raw, "used_percent", what);
  const seconds = optNumber(raw, "limit_window_seconds", what);
  const minutes = optNumber(raw, "window_minutes", what);
  const length = seconds !== null ? seconds / 60 : minutes;
  if (length === 0 || used === null) return null;
  const epoch = optNumber(raw, "resets_at", what) ?? optNumber(raw, "reset_at", what);
  const after =
    optNumber(raw, "reset_after_seconds", what) ?? optNumber(raw, "resets_in_seconds", what);
  return makeWindow(
    length === null ? null : checkWindowMinutes(length, what),
    checkUsedPercent(used, what),
    resetTime(epoch, after, observedAt, what),
  );
}

/** A spend cap known only to be reached (a flag, no numbers): it blocks with no known reset. */
export function reachedSpendCap(): Allowance {
  return {
    kind: "spend-cap",
    reached: true,
    usedPercent: null,
    limit: null,
    used: null,
    remaining: null,
    resetsAt: null,
  };
}

/**
 * One allowance object. `reached`: what the wrapper says (spend_control.reached), else the
 * object's own `reached`, else judged from the numbers (100 % used, or nothing remaining).
 */
export function parseAllowanceObject(
  raw: JsonObject,
  kind: AllowanceKind,
  reached: boolean | null,
  what: string,
  observedAt: Date,
): Allowance {
  const limit = optNumber(raw, "limit", what);
  const used = optNumber(raw, "used", what);
  const remaining = optNumber(raw, "remaining", what);
  const usedPercentRaw = optNumber(raw, "used_percent", what);
  const remainingPercent = optNumber(raw, "remaining_percent", what);
  let usedPercent = usedPercentRaw ?? (remainingPercent !== null ? 100 - remainingPercent : null);
  if (usedPercent === null && limit !== null && limit > 0 && used !== null) {
    usedPercent = (used / limit) * 100;
  }
  if (usedPercent !== null && usedPercent < 0) {
    if (usedPercent < -1e-6) fail(what, `used percent ${usedPercent} is negative`);
    usedPercent = 0;
  }
  const epoch = optNumber(raw, "reset_at", what) ?? optNumber(raw, "resets_at", what);
  const after =
    optNumber(raw, "reset_after_seconds", what) ?? optNumber(raw, "resets_in_seconds", what);
  const judged =
    (usedPercent !== null && usedPercent >= 100) ||
    (remaining !== null && remaining <= 0 && limit !== null && limit > 0);
  const resetsAt = resetTime(epoch, after, observedAt, what);
  return {
    kind,
    reached: reached ?? optBoolean(raw, "reached", what) ?? judged,
    usedPercent,
    limit,
    used,
    remaining,
    resetsAt: resetsAt === null ? null : resetsAt.toISOString(),
  };
}

/** `rate_limit_reached_type`: a string, or `{type, details}` (docs/chatgpt-backend.md §3.1). */
export function reachedTypeOf(value: unknown): string | null {
  if (typeof value === "string") return value.trim() === "" ? null : value;
  if (typeof value === "object" && value !== null && !Array.isArray(value)) {
    const type = (value as Record<string, unknown>)["type"];
    if (typeof type === "string" && type.trim() !== "") return type;
  }
  return null;
}
