/**
 * The `status` table: one row per account with its 5-hour and weekly windows (percent left, a
 * small bar, reset in local time and as a distance), its state, the bottleneck window marked, the
 * default account marked, and the account selection would choose. Colour goes through paint(),
 * which is a no-op off a TTY or with NO_COLOR; the marks are characters, so nothing relies on colour.
 */
import type { QuotaWindow } from "../../pool/schema.js";
import type { Selection } from "../../pool/select.js";
import { effectiveLeft, hasReset, resetTime, windowLabel } from "../../quota/windows.js";
import { renderTable, type Colour } from "../output.js";
import { bar, formatPercent } from "./bars.js";
import type { StatusRow } from "./status-json.js";
import { formatClock, formatReset } from "./time.js";

export type Painter = (colour: Colour, text: string) => string;

const MARK_DEFAULT = "*";
const MARK_CHOSEN = "→";
const MARK_BOTTLENECK = "◂";
const MAX_DETAIL = 48;

function shorten(text: string): string {
  const line = text.split("\n")[0] ?? "";
  return line.length > MAX_DETAIL ? `${line.slice(0, MAX_DETAIL - 1)}…` : line;
}

function leftColour(left: number): Colour {
  if (left <= 0) return "red";
  if (left <= 20) return "yellow";
  return "green";
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

function stateCell(row: StatusRow, now: Date, paint: Painter): string {
  const { status } = row;
  switch (status.state) {
    case "ok":
      return paint("green", "ok");
    case "low":
      return paint("yellow", "low");
    case "exhausted":
      return paint(
        "red",
        status.until === null ? "exhausted" : `exhausted until ${formatClock(status.until, now)}`,
      );
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
  const others = rows.some((r) => r.account.quota?.windows.some((w) => w.kind === "other"));
  const header = ["", "#", "ACCOUNT", "PLAN", "5H LEFT", "RESETS", "WEEKLY LEFT", "RESETS"];
  if (others) header.push("OTHER");
  header.push("STATE");
  const body = rows.map((row) => {
    const windows = row.account.quota?.windows ?? [];
    const neck = row.status.bottleneck;
    const five = windows.find((w) => w.kind === "5h");
    const week = windows.find((w) => w.kind === "weekly");
    const marks = `${row.isChosen ? MARK_CHOSEN : " "}${row.isDefault ? MARK_DEFAULT : " "}`;
    const name = row.account.label
      ? `${row.account.email} (${row.account.label})`
      : row.account.email;
    const cells = [
      marks,
      String(row.index),
      name,
      row.account.quota?.plan ?? row.account.plan ?? "-",
      ...windowCells(five, neck === five && five !== undefined, now, paint),
      ...windowCells(week, neck === week && week !== undefined, now, paint),
    ];
    if (others) {
      const extra = windows
        .filter((w) => w.kind === "other")
        .map(
          (w) =>
            `${windowLabel(w)} ${formatPercent(effectiveLeft(w, now))}${w === neck ? MARK_BOTTLENECK : ""}`,
        );
      cells.push(extra.length === 0 ? "-" : extra.join(", "));
    }
    cells.push(stateCell(row, now, paint));
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
  const chosen = rows.find((r) => r.isChosen);
  if (chosen !== undefined) {
    // The same bottleneck the table marks, so the two never disagree on a tie.
    const neck = chosen.status.bottleneck;
    const headroom =
      neck !== null
        ? ` (${windowLabel(neck)} ${formatPercent(effectiveLeft(neck, now))} left)`
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
      `${MARK_CHOSEN} next run   ${MARK_DEFAULT} default   ${MARK_BOTTLENECK} bottleneck window`,
    ),
  );
  return lines;
}
