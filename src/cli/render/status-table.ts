/**
 * The `status` table: one row per account, with a column pair (percent left with a small bar,
 * reset in local time and as a distance) for each window kind the pool's accounts actually have —
 * 5h, weekly, 30-day, in that order (a pool of weekly-only plans shows no empty 5-hour column) —
 * then other window lengths, allowances (spend caps, credit limits) and the limits that never block
 * (per-model, code review) when any account has them; its state (a blocked account says by what
 * and until when), the machines whose supervised sessions use it (whether their lease is current),
 * the bottleneck marked, the default account marked, and the account selection would choose; an
 * account this run did not check (its refresh token is a running codex's) is said so below. Colour goes through paint(), which is a no-op off a TTY or with NO_COLOR; the
 * marks are characters, so nothing relies on colour.
 */
import type { Allowance, QuotaWindow, SideLimit } from "../../pool/schema.js";
import type { Selection } from "../../pool/select.js";
import type { LimitReading } from "../../quota/verdict.js";
import type { WindowKind } from "../../quota/window-kind.js";
import {
  allowanceEffectiveLeft,
  allowanceLabel,
  effectiveLeft,
  hasReset,
  resetTime,
  windowLabel,
} from "../../quota/windows.js";
import { renderTable, type Colour } from "../output.js";
import { bar, formatPercent } from "./bars.js";
import { inUseText } from "./sessions.js";
import type { StatusRow } from "./status-json.js";
import { formatClock, formatReset } from "./time.js";

export type Painter = (colour: Colour, text: string) => string;

const MARK_DEFAULT = "*";
const MARK_CHOSEN = "→";
const MARK_BOTTLENECK = "◂";
const MAX_DETAIL = 48;

/** The window kinds that get their own columns, in this order, when some account has them. */
const COLUMN_KINDS = [
  ["5h", "5H"],
  ["weekly", "WEEKLY"],
  ["30d", "30-DAY"],
] as const satisfies readonly (readonly [Exclude<WindowKind, "other">, string])[];

function shorten(text: string): string {
  const line = text.split("\n")[0] ?? "";
  return line.length > MAX_DETAIL ? `${line.slice(0, MAX_DETAIL - 1)}…` : line;
}

function leftColour(left: number): Colour {
  if (left <= 0) return "red";
  if (left <= 20) return "yellow";
  return "green";
}

function isNeck(neck: LimitReading | null, limit: QuotaWindow | Allowance): boolean {
  if (neck === null) return false;
  return neck.limit.type === "window"
    ? neck.limit.window === limit
    : neck.limit.allowance === limit;
}

function windowCells(
  window: QuotaWindow | undefined,
  isBottleneck: boolean,
  now: Date,
  paint: Painter,
): [string, string] {
  if (window === undefined) return ["-", "-"];
  const left = effectiveLeft(window, now);
  const stale = hasReset(window, now);
  const pct = stale ? "?" : formatPercent(left);
  // Right-aligned percent so the bars line up; the bottleneck carries a mark, not just a colour.
  const text = `${pct.padStart(4)}${isBottleneck ? MARK_BOTTLENECK : " "}`;
  const marked = isBottleneck ? paint("bold", text) : text;
  const cell = `${marked} ${stale ? bar(0) : paint(leftColour(left), bar(left))}`;
  const reset = resetTime(window);
  const resets = reset === null ? "-" : stale ? "passed, re-check" : formatReset(reset, now);
  return [cell, resets];
}

/** "credit limit 92%", "spend cap reached (Jan 1 00:00)". */
function allowanceText(a: Allowance, neck: LimitReading | null, now: Date): string {
  const left = allowanceEffectiveLeft(a, now);
  const mark = isNeck(neck, a) ? MARK_BOTTLENECK : "";
  const reset = resetTime(a);
  const when = reset !== null && !hasReset(a, now) ? ` (${formatClock(reset, now)})` : "";
  if (left === 0) return `${allowanceLabel(a)} reached${when}${mark}`;
  return `${allowanceLabel(a)} ${left === null ? "?" : formatPercent(left)}${mark}`;
}

/** "Spark 5h 80%", "review weekly 100%": a side limit's tightest window. */
function sideText(s: SideLimit, now: Date): string {
  const name = s.scope === "code-review" ? "review" : (s.name ?? s.feature ?? "model");
  const tightest = [...s.windows].sort((a, b) => effectiveLeft(a, now) - effectiveLeft(b, now))[0];
  if (tightest === undefined) return s.limitReached ? `${name} reached` : name;
  return `${name} ${windowLabel(tightest)} ${formatPercent(effectiveLeft(tightest, now))}`;
}

function stateCell(row: StatusRow, now: Date, paint: Painter): string {
  const { status } = row;
  switch (status.state) {
    case "ok":
      return paint("green", "ok");
    case "low":
      return paint("yellow", "low");
    case "exhausted": {
      const by = status.blockedBy;
      const allowance = status.verdict.blockers[0]?.limit.type === "allowance";
      const what = allowance && by !== null ? `${by} reached` : "exhausted";
      return paint(
        "red",
        status.until === null ? what : `${what} until ${formatClock(status.until, now)}`,
      );
    }
    case "not-included":
      return paint("red", "no Codex in plan");
    case "needs-login":
      return paint("red", "needs-login");
    case "error":
      return paint("red", `error: ${shorten(status.detail ?? "unknown")}`);
    case "unknown":
      return paint("dim", "not checked");
  }
}

/** The rows of the table, header first. */
export function statusTable(rows: readonly StatusRow[], now: Date, paint: Painter): string[] {
  const snapshots = rows.map((r) => r.account.quota);
  const has = (kind: WindowKind): boolean =>
    snapshots.some((q) => q?.windows.some((w) => w.kind === kind) ?? false);
  const kinds = COLUMN_KINDS.filter(([kind]) => has(kind));
  // A pool where nobody has been checked yet still shows the usual pair of columns.
  const shown = snapshots.some((q) => q !== null) ? kinds : COLUMN_KINDS.slice(0, 2);
  const others = has("other");
  const allowances = snapshots.some((q) => (q?.allowances ?? []).length > 0);
  const sides = snapshots.some((q) => (q?.sideLimits ?? []).length > 0);
  const header = ["", "#", "ACCOUNT", "PLAN"];
  for (const [, title] of shown) header.push(`${title} LEFT`, "RESETS");
  if (others) header.push("OTHER");
  if (allowances) header.push("ALLOWANCE");
  if (sides) header.push("MODEL LIMITS");
  header.push("STATE");
  const inUse = rows.some((r) => r.sessions.length > 0);
  if (inUse) header.push("IN USE ON");
  const body = rows.map((row) => {
    const quota = row.account.quota;
    const windows = quota?.windows ?? [];
    const neck = row.status.bottleneck;
    const marks = `${row.isChosen ? MARK_CHOSEN : " "}${row.isDefault ? MARK_DEFAULT : " "}`;
    const name = row.account.label
      ? `${row.account.email} (${row.account.label})`
      : row.account.email;
    const cells = [marks, String(row.index), name, quota?.plan ?? row.account.plan ?? "-"];
    for (const [kind] of shown) {
      const w = windows.find((x) => x.kind === kind);
      cells.push(...windowCells(w, w !== undefined && isNeck(neck, w), now, paint));
    }
    if (others) {
      const extra = windows
        .filter((w) => w.kind === "other")
        .map(
          (w) =>
            `${windowLabel(w)} ${formatPercent(effectiveLeft(w, now))}${isNeck(neck, w) ? MARK_BOTTLENECK : ""}`,
        );
      cells.push(extra.length === 0 ? "-" : extra.join(", "));
    }
    if (allowances) {
      const list = (quota?.allowances ?? []).map((a) => allowanceText(a, neck, now));
      cells.push(list.length === 0 ? "-" : list.join(", "));
    }
    if (sides) {
      const list = (quota?.sideLimits ?? []).map((s) => sideText(s, now));
      cells.push(list.length === 0 ? "-" : list.join(", "));
    }
    cells.push(stateCell(row, now, paint));
    if (inUse) {
      const text = inUseText(row.sessions, now.getTime());
      const lapsed = row.sessions.some((v) => v.lease === "lapsed");
      cells.push(lapsed ? paint("yellow", text) : text);
    }
    return cells;
  });
  return renderTable(header, body);
}

/** The lines under the table: what would be chosen (or when the first account frees up), and the legend. */
export function statusFooter(
  rows: readonly StatusRow[],
  selection: Selection,
  now: Date,
  paint: Painter,
): string[] {
  const lines: string[] = [""];
  for (const row of rows) {
    if (row.skipped !== null) {
      lines.push(paint("dim", `${row.index} ${row.account.email} not checked: ${row.skipped}`));
    }
  }
  const chosen = rows.find((r) => r.isChosen);
  if (chosen !== undefined) {
    // The same bottleneck the table marks, so the two never disagree on a tie.
    const neck = chosen.status.bottleneck;
    const headroom =
      neck !== null && neck.left !== null
        ? ` (${neck.label} ${formatPercent(neck.left)} left)`
        : "";
    lines.push(`Next run: ${paint("bold", `${chosen.index} ${chosen.account.email}`)}${headroom}`);
  } else if (rows.length > 0) {
    const first = selection.earliestReset;
    lines.push(
      paint(
        "red",
        first === null
          ? "No account is usable now."
          : `No account is usable now; the first frees up at ${formatReset(first, now)}.`,
      ),
    );
  }
  lines.push(
    paint(
      "dim",
      `${MARK_CHOSEN} next run   ${MARK_DEFAULT} default   ${MARK_BOTTLENECK} bottleneck`,
    ),
  );
  return lines;
}
