/**
 * The lock file's payload (its owner) and the judgement of staleness, apart from the acquire loop
 * in lock.ts. See lock.ts for the rules; `doctor` uses inspectLock to show who holds the pool.
 */
import fs from "node:fs/promises";
import os from "node:os";
import { systemClock, type Clock } from "./clock.js";
import { removeOrphanTemps } from "./atomic-file.js";
import { hasErrorCode } from "./errors.js";
import { processGone } from "./process-alive.js";

export interface LockOwner {
  readonly pid: number;
  readonly host: string;
  readonly token: string;
  readonly acquiredAt: string;
  /** What holds it, e.g. "pool transaction" or "refresh lease". */
  readonly purpose: string;
  /** The owner process's start time (Linux clock ticks), to detect pid reuse; null if unknown. */
  readonly start?: string | null;
}

export interface LockInspection {
  readonly owner: LockOwner | null;
  readonly ageMs: number;
  readonly stale: boolean;
  readonly reason: "owner-dead" | "not-renewed" | "unreadable" | null;
}

export function isLockOwner(value: unknown): value is LockOwner {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v["pid"] === "number" &&
    typeof v["host"] === "string" &&
    typeof v["token"] === "string" &&
    (v["start"] === undefined || v["start"] === null || typeof v["start"] === "string")
  );
}

export async function readOwner(
  lockPath: string,
): Promise<{ owner: LockOwner | null; mtimeMs: number }> {
  const [text, stat] = await Promise.all([fs.readFile(lockPath, "utf8"), fs.stat(lockPath)]);
  let owner: LockOwner | null = null;
  try {
    const parsed: unknown = JSON.parse(text);
    if (isLockOwner(parsed)) owner = parsed;
  } catch {
    owner = null;
  }
  return { owner, mtimeMs: stat.mtimeMs };
}

/** Looks at a lock without touching it (for `doctor` and error messages). Null when unlocked. */
export async function inspectLock(
  lockPath: string,
  staleMs: number,
  clock: Clock = systemClock,
): Promise<LockInspection | null> {
  let read: { owner: LockOwner | null; mtimeMs: number };
  try {
    read = await readOwner(lockPath);
  } catch (error) {
    if (hasErrorCode(error, "ENOENT")) return null;
    throw error;
  }
  const ageMs = Math.max(0, clock.now() - read.mtimeMs);
  const owner = read.owner;
  if (owner === null) {
    const stale = ageMs > staleMs;
    return { owner: null, ageMs, stale, reason: stale ? "unreadable" : null };
  }
  if (owner.host === os.hostname()) {
    // On this host the process itself answers; a live owner is never taken from, however slow.
    const gone = await processGone(owner.pid, owner.start ?? null);
    return { owner, ageMs, stale: gone, reason: gone ? "owner-dead" : null };
  }
  const stale = ageMs > staleMs;
  return { owner, ageMs, stale, reason: stale ? "not-renewed" : null };
}

const UNWRITTEN_GRACE_MS = 2_000;

/**
 * Removes the temp files of lock attempts whose process died between writing and cleaning them
 * (".new": the payload names its owner, so one of this host is judged by its process; ".stale":
 * recovery tombstones, gone within milliseconds unless their recoverer died). Anything we cannot
 * judge goes only once older than `staleMs`, because another host may be using it right now.
 */
export async function removeOrphanLockTemps(
  lockPath: string,
  staleMs: number,
  clock: Clock = systemClock,
): Promise<number> {
  return removeOrphanTemps(lockPath, async (temp) => {
    let read: { owner: LockOwner | null; mtimeMs: number };
    try {
      read = await readOwner(temp.path);
    } catch (error) {
      if (hasErrorCode(error, "ENOENT")) return false;
      throw error;
    }
    const owner = read.owner;
    const ageMs = clock.now() - read.mtimeMs;
    if (temp.tag === "new" && owner !== null && owner.host === os.hostname()) {
      return owner.pid !== process.pid && (await processGone(owner.pid, owner.start ?? null));
    }
    if (temp.tag === "new" && owner === null && ageMs > UNWRITTEN_GRACE_MS) {
      // Killed between creating and filling it. Its host is unknown, but an attempt file is
      // filled within microseconds; one still empty after the grace whose pid is gone here is
      // an orphan (at worst another host's attempt fails and retries).
      return temp.pid !== process.pid && (await processGone(temp.pid, null));
    }
    return ageMs > staleMs;
  });
}
