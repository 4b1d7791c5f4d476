/** Small text bars for percentages, e.g. "████████░░" for 80 % left. */
export const BAR_WIDTH = 10;

/** A bar of `width` cells, filled in proportion to `percent` (0–100), never empty above 0. */
export function bar(percent: number, width = BAR_WIDTH): string {
  const clamped = Math.max(0, Math.min(100, percent));
  let filled = Math.round((clamped / 100) * width);
  if (filled === 0 && clamped > 0) filled = 1;
  return "█".repeat(filled) + "░".repeat(width - filled);
}

/** Percent shown to a person: rounded down, so "1%" never hides a spent window. */
export function formatPercent(percent: number): string {
  return `${Math.floor(Math.max(0, Math.min(100, percent)))}%`;
}
