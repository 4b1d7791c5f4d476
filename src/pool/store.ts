/**
 * The pool store (PRODUCT.md decision 1): one JSON file, validated on every read, changed only in
 * a transaction — cross-process lock → read → change → atomic write with fsync → release — with the
 * previous good version kept as a backup. A file that cannot be read or validated is never
 * overwritten: the command stops with one line naming the file and the backup.
 */
import fs from "node:fs/promises";
import { systemClock, type Clock } from "../platform/clock.js";
import {
  PoolCorruptError,
  errorMessage,
  hasErrorCode,
} from "../platform/errors.js";
import { ensurePrivateDir, readFileIfExists, writeFileAtomic } from "../platform/atomic-file.js";
import { withLock } from "../platform/lock.js";
import type { PoolPaths } from "../platform/paths.js";
import { POOL_VERSION, PoolSchema, emptyPool, type Pool } from "./schema.js";

export interface PoolStoreOptions {
  paths: PoolPaths;
  lockWaitMs: number;
  lockStaleMs: number;
  clock?: Clock;
}

export interface TransactOptions {
  signal?: AbortSignal;
}

export class PoolStore {
  readonly paths: PoolPaths;
  private readonly lockWaitMs: number;
  private readonly lockStaleMs: number;
  private readonly clock: Clock;

  constructor(options: PoolStoreOptions) {
    this.paths = options.paths;
    this.lockWaitMs = options.lockWaitMs;
    this.lockStaleMs = options.lockStaleMs;
    this.clock = options.clock ?? systemClock;
  }

  /** A validated snapshot of the pool without taking the lock (a missing file is an empty pool). */
  async read(): Promise<Pool> {
    return (await this.readRaw()).pool;
  }

  private corrupt(detail: string, cause?: unknown): PoolCorruptError {
    const { poolFile, poolBackup } = this.paths;
    return new PoolCorruptError(
      `pool file ${poolFile} ${detail}; it was left untouched — restore the last good version with ` +
        `\`cp ${poolBackup} ${poolFile}\` (or move it away to start an empty pool)`,
      { cause },
    );
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
      throw this.corrupt(`cannot be read (${errorMessage(error)})`, error);
    }
    if (text === null) return { pool: emptyPool(), text: null };
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw this.corrupt("is not valid JSON", error);
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
      throw this.corrupt(`does not match the pool format (${where})`, parsed.error);
    }
    return { pool: parsed.data, text };
  }

  /**
   * Runs `change` on a fresh copy of the pool under the cross-process lock and commits the result
   * if it changed. `change` may be async but must not hold the lock across slow work (network,
   * child processes): do that outside and commit its result in a short transaction.
   */
  async transact<T>(
    change: (pool: Pool) => T | Promise<T>,
    options: TransactOptions = {},
  ): Promise<T> {
    await ensurePrivateDir(this.paths.poolHome);
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
        const { pool, text } = await this.readRaw();
        const result = await change(pool);
        const validated = PoolSchema.parse(pool); // a bug in `change` must not reach the disk
        const next = JSON.stringify(validated, null, 2) + "\n";
        if (next !== text) {
          await lock.assertHeld();
          if (text !== null) await writeFileAtomic(this.paths.poolBackup, text);
          await writeFileAtomic(this.paths.poolFile, next);
        }
        return result;
      },
    );
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
