/**
 * Times as people read them in a table: reset times in local time ("14:05", "Tue 09:00",
 * "Dec 1 09:00") and distances ("in 2h 13m"). Local time comes from the process's TZ.
 */
const WEEKDAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const DAY_MS = 24 * 3600 * 1000;

function pad(n: number): string {
  return String(n).padStart(2, "0");
}

function sameLocalDay(a: Date, b: Date): boolean {
  return (
    a.getFullYear() === b.getFullYear() &&
    a.getMonth() === b.getMonth() &&
    a.getDate() === b.getDate()
  );
}

/** "14:05" today, "Tue 14:05" within six days, else "Dec 1 14:05" (24-hour local time). */
export function formatClock(date: Date, now: Date): string {
  const hm = `${pad(date.getHours())}:${pad(date.getMinutes())}`;
  if (sameLocalDay(date, now)) return hm;
  const distance = Math.abs(date.getTime() - now.getTime());
  if (distance < 6 * DAY_MS) return `${WEEKDAYS[date.getDay()] ?? ""} ${hm}`;
  return `${MONTHS[date.getMonth()] ?? ""} ${date.getDate()} ${hm}`;
}

/** A rounded-down duration: "45s", "13m", "2h 13m", "6d 2h". */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 24) return m % 60 === 0 ? `${h}h` : `${h}h ${m % 60}m`;
  const d = Math.floor(h / 24);
  return h % 24 === 0 ? `${d}d` : `${d}d ${h % 24}h`;
}

/** "in 2h 13m", "in <1m", or "passed" for a time not in the future. */
export function formatIn(date: Date, now: Date): string {
  const ms = date.getTime() - now.getTime();
  if (ms <= 0) return "passed";
  if (ms < 60_000) return "in <1m";
  return `in ${formatDuration(ms)}`;
}

/** "14:05 (in 2h 13m)". */
export function formatReset(date: Date, now: Date): string {
  return `${formatClock(date, now)} (${formatIn(date, now)})`;
}
