/**
 * Stopping a child: SIGTERM, then SIGKILL once a grace period of seconds has passed
 * (PRODUCT.md decision 5). Unlike the seed (SEED_SUPERVISOR.md §7.5, O5) a child counts as gone
 * when it has an exit code OR was killed by a signal, so nothing is sent to a dead process, and the
 * grace is the killGraceSeconds setting, never fractions of a second.
 */
import type { ChildProcess } from "node:child_process";
import { constants } from "node:os";
import { hasErrorCode } from "../platform/errors.js";

export interface ChildOutcome {
  /** The exit code, or null when a signal ended it. */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface StopResult extends ChildOutcome {
  /** SIGKILL was needed. */
  readonly escalated: boolean;
}

export interface StopOptions {
  readonly graceMs: number;
  /** The first signal (SIGTERM by default; SIGHUP when we were hung up on). */
  readonly signal?: NodeJS.Signals;
  /** Signal the child's whole process group (it was spawned detached as a group leader). */
  readonly group?: boolean;
}

export function hasExited(child: Pick<ChildProcess, "exitCode" | "signalCode">): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** The exit code a shell would show: the code, or 128 + the signal's number. */
export function exitCodeOf(outcome: ChildOutcome): number {
  if (outcome.code !== null) return outcome.code;
  if (outcome.signal !== null) {
    const n = (constants.signals as Record<string, number | undefined>)[outcome.signal];
    return n !== undefined ? 128 + n : 1;
  }
  return 1;
}

/** Resolves when the child has exited (at once if it already has). Never rejects. */
export function waitForExit(child: ChildProcess): Promise<ChildOutcome> {
  if (hasExited(child)) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  }
  return new Promise((resolve) => {
    child.once("exit", (code, signal) => resolve({ code, signal }));
  });
}

/** Sends `signal` to the child (or its group); false when it is already gone. */
export function signalChild(child: ChildProcess, signal: NodeJS.Signals, group = false): boolean {
  if (hasExited(child) || child.pid === undefined) return false;
  try {
    if (group) process.kill(-child.pid, signal);
    else child.kill(signal);
    return true;
  } catch (error) {
    if (hasErrorCode(error, "ESRCH")) return false;
    throw error;
  }
}

export async function stopChild(child: ChildProcess, options: StopOptions): Promise<StopResult> {
  const exited = waitForExit(child);
  if (hasExited(child)) return { ...(await exited), escalated: false };
  signalChild(child, options.signal ?? "SIGTERM", options.group);
  let timer: NodeJS.Timeout | undefined;
  const graceOver = new Promise<"grace-over">((resolve) => {
    timer = setTimeout(() => resolve("grace-over"), options.graceMs);
  });
  const first = await Promise.race([exited, graceOver]);
  clearTimeout(timer);
  if (first !== "grace-over") return { ...first, escalated: false };
  signalChild(child, "SIGKILL", options.group);
  return { ...(await exited), escalated: true };
}
