/**
 * A cross-process exclusive lock on one file path, with its owner recorded.
 *
 * Why our own and not proper-lockfile: it judges staleness by mtime alone and records no owner, so
 * it cannot tell a dead owner (recover now) from a busy one, nor name the holder in an error. The
 * rules from the seed's review (docs/supervisor-rules.md R3, R7–R9, O12) shape this design:
 * - The lock file is born complete: the payload is written to a private temp file that is then
 *   hard-linked into place, so no empty or half-written lock can be stranded (R3).
 * - An owner on this host is judged by its process only: a dead pid (or a zombie, or a pid reused
 *   by another process, told apart by its start time) is recovered at once, and a LIVE owner is
 *   never recovered, however long it holds — the waiter times out naming it instead. An owner on
 *   another host (shared filesystem) cannot be checked, so it is stale when it has not renewed the
 *   lock's mtime for `staleMs` (it renews every staleMs/3). An ownerless (unparsable) lock, which
 *   only a foreign hand can make, is stale after `staleMs` by mtime.
 * - Recovery never unlinks by path after a check (the seed's race, O12): the stale lock is renamed
 *   to a unique tombstone, and the tombstone is checked to be the very lock judged stale; if a
 *   fresh lock was caught instead, it is linked back.
 * - The holder's `signal` aborts when the lock is lost, and `assertHeld()` is checked right before
 *   a commit, so a holder never writes after losing its lease (R9).
 * - Only EEXIST means "busy"; any other error surfaces (R7). Waiting is bounded by `waitMs`.
 */
import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import { systemClock, type Clock } from "./clock.js";
import { CancelledError, LockLostError, LockTimeoutError, hasErrorCode } from "./errors.js";
import { PRIVATE_FILE_MODE, tempSibling } from "./atomic-file.js";
import { inspectLock, readOwner, type LockInspection, type LockOwner } from "./lock-owner.js";
import { ownStartTime } from "./process-alive.js";

export { processAlive } from "./process-alive.js";
export {
  inspectLock,
  removeOrphanLockTemps,
  type LockInspection,
  type LockOwner,
} from "./lock-owner.js";

export interface LockOptions {
  waitMs: number;
  staleMs: number;
  purpose: string;
  signal?: AbortSignal;
  clock?: Clock;
  /** Human name for errors, e.g. "the pool". */
  what?: string;
}

export interface LockHandle {
  readonly path: string;
  readonly owner: LockOwner;
  /** Aborted when the lock is found lost (taken as stale by someone else, or removed). */
  readonly signal: AbortSignal;
  assertHeld(): Promise<void>;
  release(): Promise<void>;
}

/** Removes a stale lock atomically; returns true when the stale lock is gone (by us or another). */
async function recoverStale(lockPath: string, judged: LockOwner | null): Promise<boolean> {
  const tombstone = tempSibling(lockPath, "stale");
  try {
    await fs.rename(lockPath, tombstone);
  } catch (error) {
    if (hasErrorCode(error, "ENOENT")) return true;
    throw error;
  }
  try {
    let owner: LockOwner | null = null;
    try {
      owner = (await readOwner(tombstone)).owner;
    } catch (error) {
      if (!hasErrorCode(error, "ENOENT")) throw error;
    }
    const same = judged === null ? owner === null : owner?.token === judged.token;
    if (!same) {
      // We caught a fresh lock that replaced the stale one in between: put it back. Should a third
      // party have taken the free path meanwhile, the caught owner finds its lock gone at its next
      // assertHeld() and writes nothing.
      try {
        await fs.link(tombstone, lockPath);
      } catch (error) {
        if (!hasErrorCode(error, "EEXIST")) throw error;
      }
      return false;
    }
    return true;
  } finally {
    await fs.rm(tombstone, { force: true });
  }
}

async function tryCreate(lockPath: string, owner: LockOwner): Promise<boolean> {
  const tmp = tempSibling(lockPath, "new");
  try {
    await fs.writeFile(tmp, JSON.stringify(owner) + "\n", { mode: PRIVATE_FILE_MODE, flag: "wx" });
    await fs.link(tmp, lockPath);
    return true;
  } catch (error) {
    if (hasErrorCode(error, "EEXIST")) return false;
    throw error;
  } finally {
    await fs.rm(tmp, { force: true });
  }
}

function describeHolder(lockPath: string, inspection: LockInspection, staleMs: number): string {
  const owner = inspection.owner;
  const age = `${Math.round(inspection.ageMs / 1000)}s`;
  if (!owner) {
    return `its lock file ${lockPath} names no owner; it is recovered once it is ${Math.round(
      staleMs / 1000,
    )}s old (now ${age}), or remove it if no codex-pool is running`;
  }
  if (owner.host === os.hostname()) {
    return `held by the ${owner.purpose} of pid ${owner.pid} since ${owner.acquiredAt}; try again, or if that process is stuck, stop it (kill ${owner.pid})`;
  }
  return `held by the ${owner.purpose} of pid ${owner.pid} on host ${owner.host} (renewed ${age} ago); try again — it is recovered after ${Math.round(
    staleMs / 1000,
  )}s without renewal`;
}

const inProcessQueues = new Map<string, Promise<void>>();

export async function acquireLock(lockPath: string, options: LockOptions): Promise<LockHandle> {
  const clock = options.clock ?? systemClock;
  const deadline = clock.now() + options.waitMs;
  // Callers in one process queue up in memory first, so they do not spin on the file.
  const previous = inProcessQueues.get(lockPath) ?? Promise.resolve();
  let leaveQueue!: () => void;
  const mine = new Promise<void>((resolve) => (leaveQueue = resolve));
  const queued = previous.then(() => mine);
  inProcessQueues.set(lockPath, queued);
  const cleanupQueue = (): void => {
    leaveQueue();
    if (inProcessQueues.get(lockPath) === queued) inProcessQueues.delete(lockPath);
  };
  try {
    await waitInProcess(previous, options, deadline - clock.now());
    const handle = await acquireFileLock(lockPath, options, clock, deadline);
    return {
      path: handle.path,
      owner: handle.owner,
      signal: handle.signal,
      assertHeld: () => handle.assertHeld(),
      release: async () => {
        try {
          await handle.release();
        } finally {
          cleanupQueue();
        }
      },
    };
  } catch (error) {
    cleanupQueue();
    throw error;
  }
}

/** Waits for this process's earlier holder, bounded by the same deadline, abortable. */
async function waitInProcess(
  previous: Promise<void>,
  options: LockOptions,
  remainingMs: number,
): Promise<void> {
  const signal = options.signal;
  if (signal?.aborted) throw new CancelledError();
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  try {
    await Promise.race([
      previous,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new LockTimeoutError(
                `${options.what ?? "the lock"} is busy: held by another task of this process (pid ${process.pid}); try again`,
              ),
            ),
          Math.max(0, remainingMs),
        );
        onAbort = () => reject(new CancelledError());
        signal?.addEventListener("abort", onAbort, { once: true });
      }),
    ]);
  } finally {
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener("abort", onAbort);
  }
}

async function acquireFileLock(
  lockPath: string,
  options: LockOptions,
  clock: Clock,
  deadline: number,
): Promise<LockHandle> {
  const what = options.what ?? lockPath;
  const owner: LockOwner = {
    pid: process.pid,
    host: os.hostname(),
    token: randomBytes(12).toString("hex"),
    acquiredAt: new Date(clock.now()).toISOString(),
    purpose: options.purpose,
    start: await ownStartTime(),
  };
  let delay = 5;
  for (;;) {
    if (options.signal?.aborted) throw new CancelledError();
    if (await tryCreate(lockPath, owner)) return startHolding(lockPath, owner, options.staleMs);
    const inspection = await inspectLock(lockPath, options.staleMs, clock);
    if (inspection === null) continue; // released in between: try again at once
    if (inspection.stale && (await recoverStale(lockPath, inspection.owner))) continue;
    if (clock.now() >= deadline) {
      throw new LockTimeoutError(
        `${what} is busy: ${describeHolder(lockPath, inspection, options.staleMs)}`,
      );
    }
    const jitter = Math.random() * delay;
    await new Promise((r) => setTimeout(r, Math.min(delay + jitter, deadline - clock.now() + 1)));
    delay = Math.min(delay * 2, 100);
  }
}

function startHolding(lockPath: string, owner: LockOwner, staleMs: number): LockHandle {
  const controller = new AbortController();
  let released = false;
  let renewing: Promise<void> = Promise.resolve();

  const verify = async (): Promise<boolean> => {
    try {
      const { owner: current } = await readOwner(lockPath);
      return current?.token === owner.token;
    } catch (error) {
      if (hasErrorCode(error, "ENOENT")) return false;
      throw error;
    }
  };
  // Read-then-touch is not atomic; at worst we touch a lock that just replaced ours, which only
  // delays its recovery. Ownership itself is re-checked before every commit (assertHeld).
  const renew = async (): Promise<void> => {
    if (released || controller.signal.aborted) return;
    try {
      if (!(await verify())) {
        controller.abort(new LockLostError(`lost the lock ${lockPath}: it was taken over`));
        return;
      }
      const now = new Date();
      await fs.utimes(lockPath, now, now);
    } catch (error) {
      controller.abort(new LockLostError(`lost the lock ${lockPath}`, { cause: error }));
    }
  };
  const timer = setInterval(
    () => {
      renewing = renewing.then(renew);
    },
    Math.max(50, Math.floor(staleMs / 3)),
  );
  timer.unref();

  return {
    path: lockPath,
    owner,
    signal: controller.signal,
    async assertHeld() {
      if (controller.signal.aborted || !(await verify())) {
        throw new LockLostError(
          `lost the lock ${lockPath} before committing; nothing was written, try again`,
        );
      }
    },
    async release() {
      if (released) return;
      released = true;
      clearInterval(timer);
      await renewing;
      // Owner-guarded: never remove a lock that someone else holds now. A live owner on this host
      // is never judged stale, so nobody can replace ours between this check and the unlink.
      if (await verify()) await fs.rm(lockPath, { force: true });
    },
  };
}

/** Runs `fn` while holding the lock; always releases, also when `fn` throws. */
export async function withLock<T>(
  lockPath: string,
  options: LockOptions,
  fn: (handle: LockHandle) => Promise<T>,
): Promise<T> {
  const handle = await acquireLock(lockPath, options);
  try {
    return await fn(handle);
  } finally {
    await handle.release();
  }
}
