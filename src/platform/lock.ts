/**
 * A cross-process exclusive lock on one file path, with its owner recorded.
 *
 * Why our own and not proper-lockfile: it judges staleness by mtime alone and records no owner, so
 * it cannot tell a dead owner (recover now) from a busy one, nor name the holder in an error. The
 * rules from the seed's review (SEED_SUPERVISOR.md R3, R7–R9, O12) shape this design:
 * - The lock file is born complete: the payload is written to a private temp file that is then
 *   hard-linked into place, so no empty or half-written lock can be stranded (R3).
 * - A lock is stale when its owner's pid is gone on this host, or when it has not been renewed for
 *   `staleMs` (the owner touches its mtime every staleMs/3). A live owner is never judged stale.
 * - Recovery is atomic: the stale lock is renamed to a unique tombstone and the tombstone is checked
 *   to be the very lock judged stale; if a fresh lock was caught instead, it is linked back (O12).
 * - The holder's `signal` aborts when the lock is lost, and `assertHeld()` is checked right before
 *   a commit, so a holder never writes after losing its lease (R9).
 * - Only EEXIST means "busy"; any other error surfaces (R7).
 */
import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import { systemClock, type Clock } from "./clock.js";
import { CancelledError, LockLostError, LockTimeoutError, hasErrorCode } from "./errors.js";
import { PRIVATE_FILE_MODE, tempSibling } from "./atomic-file.js";

export interface LockOwner {
  readonly pid: number;
  readonly host: string;
  readonly token: string;
  readonly acquiredAt: string;
  /** What holds it, e.g. "pool transaction" or "refresh lease". */
  readonly purpose: string;
}

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

export interface LockInspection {
  readonly owner: LockOwner | null;
  readonly ageMs: number;
  readonly stale: boolean;
  readonly reason: "owner-dead" | "not-renewed" | "unreadable" | null;
}

function isLockOwner(value: unknown): value is LockOwner {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v["pid"] === "number" && typeof v["host"] === "string" && typeof v["token"] === "string"
  );
}

async function readOwner(lockPath: string): Promise<{ owner: LockOwner | null; mtimeMs: number }> {
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

/** True unless we know for sure the pid is gone (ESRCH); EPERM means it lives under another user. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return !hasErrorCode(error, "ESRCH");
  }
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
  if (read.owner === null) {
    const stale = ageMs > staleMs;
    return { owner: null, ageMs, stale, reason: stale ? "unreadable" : null };
  }
  if (read.owner.host === os.hostname() && !processAlive(read.owner.pid)) {
    return { owner: read.owner, ageMs, stale: true, reason: "owner-dead" };
  }
  const stale = ageMs > staleMs;
  return { owner: read.owner, ageMs, stale, reason: stale ? "not-renewed" : null };
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
    const { owner } = await readOwner(tombstone);
    const same = judged === null ? owner === null : owner?.token === judged.token;
    if (!same) {
      // We caught a fresh lock that replaced the stale one in between: put it back.
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
  await fs.writeFile(tmp, JSON.stringify(owner) + "\n", { mode: PRIVATE_FILE_MODE, flag: "wx" });
  try {
    await fs.link(tmp, lockPath);
    return true;
  } catch (error) {
    if (hasErrorCode(error, "EEXIST")) return false;
    throw error;
  } finally {
    await fs.rm(tmp, { force: true });
  }
}

function describeHolder(inspection: LockInspection | null): string {
  const owner = inspection?.owner;
  if (!owner) return "another process";
  return `${owner.purpose} of pid ${owner.pid} on ${owner.host}`;
}

const inProcessQueues = new Map<string, Promise<void>>();

export async function acquireLock(lockPath: string, options: LockOptions): Promise<LockHandle> {
  const clock = options.clock ?? systemClock;
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
    await waitOrAbort(previous, options.signal);
    const handle = await acquireFileLock(lockPath, options, clock);
    const release = handle.release;
    return {
      ...handle,
      release: async () => {
        try {
          await release();
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

async function waitOrAbort(promise: Promise<void>, signal: AbortSignal | undefined): Promise<void> {
  if (!signal) return promise;
  if (signal.aborted) throw new CancelledError();
  await new Promise<void>((resolve, reject) => {
    const onAbort = (): void => reject(new CancelledError());
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      () => {
        signal.removeEventListener("abort", onAbort);
        resolve();
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

async function acquireFileLock(
  lockPath: string,
  options: LockOptions,
  clock: Clock,
): Promise<LockHandle> {
  const what = options.what ?? lockPath;
  const deadline = clock.now() + options.waitMs;
  const owner: LockOwner = {
    pid: process.pid,
    host: os.hostname(),
    token: randomBytes(12).toString("hex"),
    acquiredAt: new Date(clock.now()).toISOString(),
    purpose: options.purpose,
  };
  let delay = 5;
  for (;;) {
    if (options.signal?.aborted) throw new CancelledError();
    if (await tryCreate(lockPath, owner)) return startHolding(lockPath, owner, options.staleMs);
    const inspection = await inspectLock(lockPath, options.staleMs, clock);
    if (inspection === null) continue; // released in between: try again at once
    if (inspection.stale) {
      await recoverStale(lockPath, inspection.owner);
      continue;
    }
    if (clock.now() >= deadline) {
      throw new LockTimeoutError(
        `${what} is busy: held by the ${describeHolder(inspection)} for ${Math.round(
          inspection.ageMs / 1000,
        )}s; try again, or if that process is stuck, stop it (its lock is recovered after ${Math.round(
          options.staleMs / 1000,
        )}s without renewal)`,
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
      // Owner-guarded: never remove a lock that someone else holds now.
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
