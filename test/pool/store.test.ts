/**
 * The pool store under real concurrency and real crashes: separate OS processes (the built store,
 * test/fixtures/pool-worker.mjs) transacting on one pool file. Run `npm run build` first.
 */
import { randomInt } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { poolPaths } from "../../src/platform/paths.js";
import { PoolCorruptError } from "../../src/platform/errors.js";
import { FilePoolStore } from "../../src/pool/file-store.js";
import type { PoolStore } from "../../src/pool/store.js";
import { emptyPool } from "../../src/pool/schema.js";
import { killWorker, startWorker } from "../helpers/pool-worker.js";
import { tempDir } from "../helpers/tmp.js";

const COUNTER_ID = "acc_counter000";

function storeAt(poolHome: string, waitMs = 10_000, staleMs = 60_000): FilePoolStore {
  return new FilePoolStore({
    paths: poolPaths(poolHome),
    lockWaitMs: waitMs,
    lockStaleMs: staleMs,
  });
}

async function counter(store: PoolStore): Promise<number> {
  const pool = await store.read();
  return Number(pool.accounts.find((a) => a.id === COUNTER_ID)?.label ?? "0");
}

describe("pool store across processes", () => {
  it("8 processes x 50 transactions lose no update", async () => {
    await using dir = await tempDir();
    const poolHome = dir.join("pool");
    const workers = Array.from({ length: 8 }, () => startWorker(["count", poolHome, "50"]));
    const results = await Promise.all(workers.map((w) => w.exited));
    for (const r of results) expect(r).toMatchObject({ code: 0, stdout: "done\n" });
    const store = storeAt(poolHome);
    expect(await counter(store)).toBe(400);
    // The lock is gone and no temp file of any writer is left behind.
    const names = await fs.readdir(poolHome);
    expect(names.sort()).toEqual(["pool.json", "pool.json.bak"]);
    expect(await store.modes()).toEqual({ dir: 0o700, file: 0o600 });
    expect((await fs.stat(dir.join("pool", "pool.json.bak"))).mode & 0o777).toBe(0o600);
  }, 120_000);

  it("a writer SIGKILLed at random moments never leaves an unreadable pool; its lock is recovered at once", async () => {
    await using dir = await tempDir();
    const poolHome = dir.join("pool");
    const paths = poolPaths(poolHome);
    // A stale time far beyond the wait: only "owner is dead" can explain a quick recovery.
    const store = storeAt(poolHome, 3_000, 600_000);
    let lockLeftBehind = 0;
    let last = 0;
    for (let round = 0; round < 30; round++) {
      const worker = startWorker(["loop", poolHome]);
      await worker.waitFor("ready");
      await new Promise((r) => setTimeout(r, randomInt(0, 40)));
      await killWorker(worker);
      // Whatever the moment of the kill, both files parse and validate.
      const now = await counter(store);
      expect(now).toBeGreaterThanOrEqual(last);
      last = now;
      const backupText = await fs.readFile(paths.poolBackup, "utf8").catch(() => null);
      if (backupText !== null) expect(JSON.parse(backupText)).toMatchObject({ version: 1 });
      if (await fs.stat(paths.poolLock).catch(() => null)) lockLeftBehind++;
      const started = Date.now();
      await store.transact((pool) => {
        const a = pool.accounts.find((x) => x.id === COUNTER_ID)!;
        a.label = String(Number(a.label) + 1);
      });
      expect(Date.now() - started).toBeLessThan(2_000);
      last++;
      expect(await counter(store)).toBe(last);
    }
    // The kills did land inside transactions (the writer holds the lock nearly all the time).
    expect(lockLeftBehind).toBeGreaterThan(0);
    // Temp files of the killed writers are swept by later transactions: at once when they name
    // their dead writer, after a short grace when killed before anything was written in them.
    const hidden = async () => (await fs.readdir(poolHome)).filter((n) => n.startsWith("."));
    const then = new Date(Date.now() - 10_000);
    for (const name of await hidden()) {
      expect(name).toMatch(/^\.pool\.json\.lock\.\d+\.[0-9a-f]{12}\.new$/);
      expect(await fs.readFile(path.join(poolHome, name), "utf8")).toBe("");
      await fs.utimes(path.join(poolHome, name), then, then);
    }
    await store.transact(() => undefined);
    expect(await hidden()).toEqual([]);
  }, 180_000);

  it("a lock held by a killed holder is recovered at once by the next transaction", async () => {
    await using dir = await tempDir();
    const poolHome = dir.join("pool");
    const holder = startWorker(["hold", poolHome]);
    await holder.waitFor("holding");
    const lock = JSON.parse(await fs.readFile(poolPaths(poolHome).poolLock, "utf8")) as {
      pid: number;
    };
    expect(lock.pid).toBe(holder.child.pid);
    await killWorker(holder);
    const store = storeAt(poolHome, 1_000, 600_000);
    await store.transact((pool) => {
      pool.defaultAccount = null;
    });
    await expect(fs.stat(poolPaths(poolHome).poolLock)).rejects.toMatchObject({ code: "ENOENT" });
  });
});

describe("pool store, corrupt files", () => {
  it("a transaction on a corrupt file fails before writing, naming the file and the backup", async () => {
    await using dir = await tempDir();
    const paths = poolPaths(dir.join("pool"));
    await fs.mkdir(paths.poolHome, { mode: 0o700 });
    await fs.writeFile(paths.poolFile, '{"version":1,"accounts":[', { mode: 0o600 });
    await fs.writeFile(paths.poolBackup, JSON.stringify(emptyPool()), { mode: 0o600 });
    const before = await fs.readFile(paths.poolFile);
    const backupBefore = await fs.readFile(paths.poolBackup);
    const store = storeAt(paths.poolHome);
    let called = false;
    const error = await store
      .transact(() => {
        called = true;
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PoolCorruptError);
    const message = (error as Error).message;
    expect(message).toContain(paths.poolFile);
    expect(message).toContain(`cp ${paths.poolBackup} ${paths.poolFile}`);
    expect(message).not.toContain("\n");
    expect(called).toBe(false);
    expect(await fs.readFile(paths.poolFile)).toEqual(before);
    expect(await fs.readFile(paths.poolBackup)).toEqual(backupBefore);
    await expect(store.read()).rejects.toBeInstanceOf(PoolCorruptError);
  });

  it("says so when there is no backup, and rejects a file that fails the schema", async () => {
    await using dir = await tempDir();
    const paths = poolPaths(dir.join("pool"));
    await fs.mkdir(paths.poolHome, { mode: 0o700 });
    await fs.writeFile(paths.poolFile, JSON.stringify({ version: 1, accounts: [{ id: "x" }] }));
    const error = (await storeAt(paths.poolHome)
      .read()
      .catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(PoolCorruptError);
    expect(error.message).toContain("does not match the pool format");
    expect(error.message).toContain("there is no backup");
  });

  it("keeps the previous good version as the backup and tightens a loose pool home", async () => {
    await using dir = await tempDir();
    const paths = poolPaths(dir.join("pool"));
    await fs.mkdir(paths.poolHome, { mode: 0o755 });
    await fs.chmod(paths.poolHome, 0o755);
    const store = storeAt(paths.poolHome);
    await store.transact((pool) => {
      pool.defaultAccount = "acc_first1";
    });
    await store.transact((pool) => {
      pool.defaultAccount = "acc_second";
    });
    const backup = JSON.parse(await fs.readFile(paths.poolBackup, "utf8")) as {
      defaultAccount: string;
    };
    expect(backup.defaultAccount).toBe("acc_first1");
    expect((await store.read()).defaultAccount).toBe("acc_second");
    expect(await store.modes()).toEqual({ dir: 0o700, file: 0o600 });
  });

  it("a throw inside the change commits nothing", async () => {
    await using dir = await tempDir();
    const store = storeAt(dir.join("pool"));
    await store.transact((pool) => {
      pool.defaultAccount = "acc_keep00";
    });
    await expect(
      store.transact((pool) => {
        pool.defaultAccount = "acc_lost00";
        throw new Error("boom");
      }),
    ).rejects.toThrow("boom");
    expect((await store.read()).defaultAccount).toBe("acc_keep00");
  });
});
