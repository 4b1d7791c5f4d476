/**
 * Is the process that wrote a lock still the same living process? A pid alone is not enough: pids
 * are reused, and a zombie still answers `kill(pid, 0)`. On Linux the start time in
 * /proc/<pid>/stat tells a reused pid apart; elsewhere we fall back to the pid check alone.
 */
import fs from "node:fs/promises";
import { hasErrorCode } from "./errors.js";

/** True unless we know for sure the pid is gone (ESRCH); EPERM means it lives under another user. */
export function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return !hasErrorCode(error, "ESRCH");
  }
}

interface ProcStat {
  state: string;
  /** Start time in clock ticks since boot (field 22), as text: it is only compared. */
  start: string;
}

/** The state and start time of a pid from /proc, "gone" when it has no entry, null without /proc. */
async function procStat(pid: number): Promise<ProcStat | "gone" | null> {
  let text: string;
  try {
    text = await fs.readFile(`/proc/${pid}/stat`, "utf8");
  } catch (error) {
    if (hasErrorCode(error, "ENOENT", "ESRCH")) {
      // No /proc at all (macOS) looks the same as a missing pid: tell them apart.
      return (await procAvailable()) ? "gone" : null;
    }
    return null;
  }
  // The command name is in parentheses and may itself contain spaces or parentheses.
  const rest = text.slice(text.lastIndexOf(")") + 2).split(" ");
  const state = rest[0];
  const start = rest[19];
  if (state === undefined || start === undefined) return null;
  return { state, start };
}

async function procAvailable(): Promise<boolean> {
  try {
    await fs.access("/proc/self/stat");
    return true;
  } catch {
    return false;
  }
}

/** This process's start time, recorded in a lock so a later reader can detect pid reuse. */
export async function ownStartTime(): Promise<string | null> {
  const stat = await procStat(process.pid);
  return stat === null || stat === "gone" ? null : stat.start;
}

/**
 * True when the process `pid` that recorded `start` (null: unknown) is certainly gone: no such pid,
 * a zombie, or a different process that reused the pid. Unsure answers are "alive".
 */
export async function processGone(pid: number, start: string | null): Promise<boolean> {
  if (!processAlive(pid)) return true;
  const stat = await procStat(pid);
  if (stat === "gone") return true;
  if (stat === null) return false;
  if (stat.state === "Z" || stat.state === "X") return true;
  return start !== null && stat.start !== start;
}
