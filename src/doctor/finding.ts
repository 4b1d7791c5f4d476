/** One result of `codex-pool doctor`: what was checked, how it stands, and the one-line fix. */
export type FindingStatus = "ok" | "warn" | "fail";

export interface Finding {
  /** Stable id for scripts and tests, e.g. "pool-file-mode". */
  readonly id: string;
  readonly status: FindingStatus;
  readonly title: string;
  readonly detail?: string;
  /** What to do about it; absent when all is well. */
  readonly remedy?: string;
}

export function ok(id: string, title: string, detail?: string): Finding {
  return { id, status: "ok", title, ...(detail !== undefined ? { detail } : {}) };
}

export function warn(id: string, title: string, remedy: string, detail?: string): Finding {
  return { id, status: "warn", title, remedy, ...(detail !== undefined ? { detail } : {}) };
}

export function fail(id: string, title: string, remedy: string, detail?: string): Finding {
  return { id, status: "fail", title, remedy, ...(detail !== undefined ? { detail } : {}) };
}
