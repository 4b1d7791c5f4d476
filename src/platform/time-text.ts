/**
 * Times as people read them, in one style everywhere (`status`, the switch line, the countdown,
 * error messages): wall-clock times in local 24-hour time ("14:05", "Tue 14:05", "Dec 1 14:05")
 * and distances by their two largest units, rounded down ("2h 13m", "6d 2h", "4m 5s", "45s").
 * Local time comes from the process's TZ. No Intl: its first use loads locale data (~17 ms), and
 * the switch line waits on this.
 */
const WEEKDAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"] as const;
const MONTHS = [
  "Jan",
  "Feb",
  "Mar",
  "Apr",
  "May",
  "Jun",
  "Jul",
  "Aug",
  "Sep",
  "Oct",
  "Nov",
  "Dec",
] as const;
const DAY_MS = 24 * 3600 * 1000;

function pad(n: number): string {
  return String(n).padStart(2, "0");
}

function asDate(at: Date | number): Date {
  return typeof at === "number" ? new Date(at) : at;
}

function sameLocalDay(a: Date, b: Date): boolean {
  return (
    a.getFullYear() === b.getFullYear() &&
    a.getMonth() === b.getMonth() &&
    a.getDate() === b.getDate()
  );
}

/**
 * "14:05" today, "Tue 14:05" within six days (a weekday name never means two dates), else
 * "Dec 1 14:05".
 */
export function formatClock(at: Date | number, now: Date | number): string {
  const date = asDate(at);
  const today = asDate(now);
  const hm = `${pad(date.getHours())}:${pad(date.getMinutes())}`;
  if (sameLocalDay(date, today)) return hm;
  if (Math.abs(date.getTime() - today.getTime()) < 6 * DAY_MS) {
    return `${WEEKDAYS[date.getDay()] ?? ""} ${hm}`;
  }
  return `${MONTHS[date.getMonth()] ?? ""} ${date.getDate()} ${hm}`;
}

/**
 * A distance by its two largest units, rounded down: "6d 2h", "2h 13m", "13m", "45s". Seconds
 * show under a minute, or whenever `smallest` is "s" (a countdown that ticks every second:
 * "4m 5s"); a zero second unit is left out ("1h", "3d").
 */
export function formatDuration(ms: number, smallest: "m" | "s" = "m"): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const units: Array<[number, string]> = [
    [Math.floor(total / 86_400), "d"],
    [Math.floor((total % 86_400) / 3600), "h"],
    [Math.floor((total % 3600) / 60), "m"],
    [total % 60, "s"],
  ];
  const first = units.findIndex(([n]) => n > 0);
  if (first === -1) return "0s";
  const shown = units
    .slice(first, first + 2)
    .filter(([, unit], i) => i === 0 || unit !== "s" || smallest === "s" || first === 3);
  const [lead, second] = shown;
  if (lead === undefined) return "0s";
  if (second === undefined || second[0] === 0) return `${lead[0]}${lead[1]}`;
  return `${lead[0]}${lead[1]} ${second[0]}${second[1]}`;
}

/** "in 2h 13m", "in <1m", or "passed" for a time not in the future. */
export function formatIn(at: Date | number, now: Date | number): string {
  const ms = asDate(at).getTime() - asDate(now).getTime();
  if (ms <= 0) return "passed";
  if (ms < 60_000) return "in <1m";
  return `in ${formatDuration(ms)}`;
}

/** "14:05 (in 2h 13m)". */
export function formatReset(at: Date | number, now: Date | number): string {
  return `${formatClock(at, now)} (${formatIn(at, now)})`;
}
