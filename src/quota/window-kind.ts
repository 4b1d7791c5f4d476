/**
 * What a quota window is, from its length alone (docs/decisions.md decision 13): never from its
 * slot, since plans answer with only a weekly window in `primary_window`, or a 30-day one
 * (docs/chatgpt-backend.md §3.1). Real lengths are not exact — 17940 s for the 5-hour window and
 * 604740 s for the week — so a length counts as a kind within a tolerance: 5 minutes or 1 % of
 * the kind's length, whichever is larger. Nothing here imports anything: the pool schema uses it
 * to re-derive the kind of snapshots stored by older versions.
 */
export const WINDOW_KINDS = ["5h", "weekly", "30d", "other"] as const;
export type WindowKind = (typeof WINDOW_KINDS)[number];

/** The nominal length of each named kind, in seconds. */
export const KIND_SECONDS = {
  "5h": 5 * 3600,
  weekly: 7 * 86_400,
  "30d": 30 * 86_400,
} as const satisfies Record<Exclude<WindowKind, "other">, number>;

const MIN_TOLERANCE_SECONDS = 300;
const RELATIVE_TOLERANCE = 0.01;

function within(seconds: number, nominal: number): boolean {
  const tolerance = Math.max(MIN_TOLERANCE_SECONDS, nominal * RELATIVE_TOLERANCE);
  return Math.abs(seconds - nominal) <= tolerance;
}

/** 17940 s → "5h", 604740 s → "weekly", 2592000 s → "30d", 5400 s → "other"; unknown → "other". */
export function kindOfSeconds(seconds: number | null): WindowKind {
  if (seconds === null || !Number.isFinite(seconds) || seconds <= 0) return "other";
  for (const kind of ["5h", "weekly", "30d"] as const) {
    if (within(seconds, KIND_SECONDS[kind])) return kind;
  }
  return "other";
}

/** The same classification for a length in whole minutes (how windows are stored). */
export function kindOfMinutes(minutes: number | null): WindowKind {
  return minutes === null ? "other" : kindOfSeconds(minutes * 60);
}
