/**
 * Stopping a child: SIGTERM, then SIGKILL once a grace period of seconds has passed on the clock
 * (docs/decisions.md decision 5). Unlike the older supervisor (docs/supervisor-rules.md O5) a child
 * counts as gone when it has an exit code OR was killed by a signal, so nothing is sent to a dead
 * process, and the grace is the killGraceSeconds setting, never fractions of a second. Exit codes
 * follow the one rule of src/codex/spawn.ts (exitCodeOf).
 */
import type { ChildProcess } from "node:child_process";
import { outcomeOf, type ChildOutcome } from "../codex/spawn.js";
import type { Clock } from "../platform/clock.js";
import { hasErrorCode } from "../platform/errors.js";

export type { ChildOutcome } from "../codex/spawn.js";

export interface StopResult extends ChildOutcome {
  /** SIGKILL was needed. */
  readonly escalated: boolean;
}

export interface StopOptions {
  readonly graceMs: number;
  readonly clock: Clock;
  /** The first signal (SIGTERM by default). */
  readonly signal?: NodeJS.Signals;
}

/** The parts of a child process stopping needs (tests pass a fake). */
export type StoppableChild = Pick<
  ChildProcess,
  "exitCode" | "signalCode" | "pid" | "kill" | "once"
>;

export function hasExited(child: Pick<ChildProcess, "exitCode" | "signalCode">): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** Resolves when the child has exited (at once if it already has). Never rejects. */
export function waitForExit(child: StoppableChild): Promise<ChildOutcome> {
  if (hasExited(child)) return Promise.resolve(outcomeOf(child.exitCode, child.signalCode));
  return new Promise((resolve) => {
    child.once("exit", (code: number | null, signal: NodeJS.Signals | null) =>
      resolve(outcomeOf(code, signal)),
    );
  });
}

/** Sends `signal` to the child; false when it is already gone. */
export function signalChild(child: StoppableChild, signal: NodeJS.Signals): boolean {
  if (hasExited(child) || child.pid === undefined) return false;
  try {
    child.kill(signal);
    return true;
  } catch (error) {
    if (hasErrorCode(error, "ESRCH")) return false;
    throw error;
  }
}

export async function stopChild(child: StoppableChild, options: StopOptions): Promise<StopResult> {
  const exited = waitForExit(child);
  if (hasExited(child)) return { ...(await exited), escalated: false };
  signalChild(child, options.signal ?? "SIGTERM");
  let timer: { cancel(): void } | undefined;
  const graceOver = new Promise<"grace-over">((resolve) => {
    timer = options.clock.setTimer(() => resolve("grace-over"), options.graceMs);
  });
  const first = await Promise.race([exited, graceOver]);
  timer?.cancel();
  if (first !== "grace-over") return { ...first, escalated: false };
  signalChild(child, "SIGKILL");
  return { ...(await exited), escalated: true };
}
