/**
 * The file backend of the pool store (docs/decisions.md decision 1): one JSON file, validated on every read, changed only in
 * a transaction — cross-process lock → read → change → atomic write with fsync → release — with the
 * previous good version kept as a backup. A file that cannot be read or validated is never
 * overwritten: the transaction fails before writing, with one line naming the file and the backup.
 *
 * Every writer of pool.json goes through transact() and so through the one lock (unlike the seed,
 * whose lock guarded supervisors only: docs/supervisor-rules.md O11). The paths are fixed when the store
 * is built, so a transaction can never read one file and write another (R1, R26).
 */
import fs from "node:fs/promises";
import { systemClock, type Clock } from "../platform/clock.js";
import { PoolCorruptError, errorMessage, hasErrorCode } from "../platform/errors.js";
import {
  ensurePrivateDir,
  readFileIfExists,
  removeOrphanTemps,
  writeFileAtomic,
} from "../platform/atomic-file.js";
import { removeOrphanLockTemps, withLock } from "../platform/lock.js";
import { processAlive } from "../platform/process-alive.js";
import type { PoolPaths } from "../platform/paths.js";
import { POOL_VERSION, PoolSchema, emptyPool, type Pool } from "./schema.js";
import type { PoolStore, StoreSubscription, TransactContext, TransactOptions } from "./store.js";

export interface FilePoolStoreOptions {
  paths: PoolPaths;
  lockWaitMs: number;
  lockStaleMs: number;
  clock?: Clock;
}

export class FilePoolStore implements PoolStore {
  readonly kind = "file" as const;
  readonly paths: PoolPaths;
  private readonly lockWaitMs: number;
  private readonly lockStaleMs: number;
  private readonly clock: Clock;

  get location(): string {
    return this.paths.poolFile;
  }

  constructor(options: FilePoolStoreOptions) {
    this.paths = options.paths;
    this.lockWaitMs = options.lockWaitMs;
    this.lockStaleMs = options.lockStaleMs;
    this.clock = options.clock ?? systemClock;
  }

  /** A validated snapshot of the pool without taking the lock (a missing file is an empty pool). */
  async read(): Promise<Pool> {
    return (await this.readRaw()).pool;
  }

  private async corrupt(detail: string, cause?: unknown): Promise<PoolCorruptError> {
    const { poolFile, poolBackup } = this.paths;
    let backupExists = false;
    try {
      await fs.access(poolBackup);
      backupExists = true;
    } catch {
      backupExists = false;
    }
    const fix = backupExists
      ? `restore the last good version with \`cp ${poolBackup} ${poolFile}\` (or move the file away to start an empty pool)`
      : `there is no backup (${poolBackup} does not exist): fix the file, or move it away to start an empty pool`;
    return new PoolCorruptError(`pool file ${poolFile} ${detail}; it was left untouched — ${fix}`, {
      cause,
    });
  }

  private async readRaw(): Promise<{ pool: Pool; text: string | null }> {
    let text: string | null;
    try {
      text = await readFileIfExists(this.paths.poolFile);
    } catch (error) {
      if (hasErrorCode(error, "EACCES", "EPERM")) {
        throw new PoolCorruptError(
          `cannot read pool file ${this.paths.poolFile} (permission denied); fix its owner or mode (chmod 600)`,
          { cause: error },
        );
      }
      throw await this.corrupt(`cannot be read (${errorMessage(error)})`, error);
    }
    if (text === null) return { pool: emptyPool(), text: null };
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw await this.corrupt("is not valid JSON", error);
    }
    const version = (json as { version?: unknown } | null)?.version;
    if (typeof version === "number" && version > POOL_VERSION) {
      throw new PoolCorruptError(
        `pool file ${this.paths.poolFile} was written by a newer codex-pool (format ${version}); upgrade codex-pool`,
      );
    }
    const parsed = PoolSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue ? `${issue.path.join(".") || "(root)"}: ${issue.message}` : "invalid";
      throw await this.corrupt(`does not match the pool format (${where})`, parsed.error);
    }
    return { pool: parsed.data, text };
  }

  /**
   * Runs `change` on a fresh copy of the pool under the cross-process lock and commits the result
   * if it changed. A throw from `change` commits nothing. `change` may be async but must not hold
   * the lock across slow work (network, child processes): do that outside and commit its result
   * in a short transaction.
   */
  async transact<T>(
    change: (pool: Pool, tx: TransactContext) => T | Promise<T>,
    options: TransactOptions<T> = {},
  ): Promise<T> {
    await ensurePrivateDir(this.paths.poolHome, { tighten: true });
    return withLock(
      this.paths.poolLock,
      {
        waitMs: this.lockWaitMs,
        staleMs: this.lockStaleMs,
        purpose: "pool transaction",
        what: "the pool",
        clock: this.clock,
        ...(options.signal ? { signal: options.signal } : {}),
      },
      async (lock) => {
        // Read first: a corrupt file stops the transaction before anything is written.
        const { pool, text } = await this.readRaw();
        await this.sweepOrphans();
        const result = await change(pool, { signal: lock.signal });
        const validated = PoolSchema.parse(pool); // a bug in `change` must not reach the disk
        const next = JSON.stringify(validated, null, 2) + "\n";
        if (next !== text) {
          await lock.assertHeld();
          // The backup is the version we just validated, so it is always a good one.
          if (text !== null) await writeFileAtomic(this.paths.poolBackup, text);
          await writeFileAtomic(this.paths.poolFile, next);
        }
        if (options.afterCommit) await options.afterCommit(result);
        return result;
      },
    );
  }

  /**
   * Temp files of writers killed mid-write. Pool temps are written only under the lock we hold, so
   * none is in use: those of a dead pid go. Lock temps are made before taking the lock, possibly
   * by another host sharing the directory; the lock module judges those.
   */
  private async sweepOrphans(): Promise<void> {
    const gone = ({ pid }: { pid: number }): boolean => pid !== process.pid && !processAlive(pid);
    await removeOrphanTemps(this.paths.poolFile, gone);
    await removeOrphanTemps(this.paths.poolBackup, gone);
    await removeOrphanLockTemps(this.paths.poolLock, this.lockStaleMs, this.clock);
  }

  /**
   * Polls the file's identity (inode, size, mtime): every commit renames a new file into place,
   * so any commit changes it. One machine's file has no push channel worth its complexity.
   */
  async subscribe(
    onChange: () => void,
    options: { pollMs?: number } = {},
  ): Promise<StoreSubscription> {
    const stamp = async (): Promise<string> => {
      try {
        const s = await fs.stat(this.paths.poolFile, { bigint: true });
        return `${s.ino}:${s.size}:${s.mtimeNs}`;
      } catch (error) {
        if (hasErrorCode(error, "ENOENT")) return "none";
        throw error;
      }
    };
    let last = await stamp();
    let busy = false;
    const timer = setInterval(() => {
      if (busy) return;
      busy = true;
      stamp()
        .then((now) => {
          if (now !== last) {
            last = now;
            onChange();
          }
        })
        // An unreadable stat now is reported by the next read; the poll itself loses nothing.
        .catch(() => undefined)
        .finally(() => (busy = false));
    }, options.pollMs ?? 1000);
    timer.unref();
    return {
      close: () => {
        clearInterval(timer);
        return Promise.resolve();
      },
    };
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  /** File and directory modes, for `doctor` and tests. */
  async modes(): Promise<{ dir: number | null; file: number | null }> {
    const mode = async (p: string): Promise<number | null> => {
      try {
        return (await fs.stat(p)).mode & 0o777;
      } catch (error) {
        if (hasErrorCode(error, "ENOENT")) return null;
        throw error;
      }
    };
    return { dir: await mode(this.paths.poolHome), file: await mode(this.paths.poolFile) };
  }
}
