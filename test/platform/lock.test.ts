/**
 * The cross-process lock: a live owner is never robbed, a dead one is recovered at once, an
 * ownerless lock only after the stale time. Real files, real child processes.
 */
import { spawn } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { LockLostError, LockTimeoutError } from "../../src/platform/errors.js";
import {
  acquireLock,
  inspectLock,
  removeOrphanLockTemps,
  withLock,
  type LockOptions,
} from "../../src/platform/lock.js";
import { poolPaths } from "../../src/platform/paths.js";
import { killWorker, startWorker } from "../helpers/pool-worker.js";
import { tempDir } from "../helpers/tmp.js";

const opts = (waitMs: number, staleMs: number): LockOptions => ({
  waitMs,
  staleMs,
  purpose: "test",
  what: "the test lock",
});

/** The pid of a process that has exited and been reaped. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
  await new Promise((resolve) => child.on("exit", resolve));
  return child.pid!;
}

async function age(file: string, ms: number): Promise<void> {
  const then = new Date(Date.now() - ms);
  await fs.utimes(file, then, then);
}

const ownerPayload = (pid: number, host = os.hostname(), start: string | null = null): string =>
  JSON.stringify({
    pid,
    host,
    token: "t".repeat(24),
    acquiredAt: new Date().toISOString(),
    purpose: "pool transaction",
    start,
  }) + "\n";

describe("lock held by a live process", () => {
  it("is never removed, even long past the stale time; the waiter times out naming the holder", async () => {
    await using dir = await tempDir();
    const poolHome = dir.join("pool");
    const lockPath = poolPaths(poolHome).poolLock;
    const holder = startWorker(["hold", poolHome]);
    try {
      await holder.waitFor("holding");
      const before = await fs.readFile(lockPath, "utf8");
      expect((await fs.stat(lockPath)).mode & 0o777).toBe(0o600);
      expect(JSON.parse(before)).toMatchObject({
        pid: holder.child.pid,
        host: os.hostname(),
        purpose: "pool transaction",
      });
      // Even a lock that looks unrenewed for an hour stays: its owner is alive.
      await age(lockPath, 3_600_000);
      const waiter = startWorker(["once", poolHome, "400", "2000"]);
      const result = await waiter.exited;
      expect(result.code).toBe(1);
      expect(result.stdout).toContain("LockTimeoutError");
      expect(result.stdout).toContain(`pid ${holder.child.pid}`);
      expect(result.stdout).toContain(`kill ${holder.child.pid}`);
      expect(await fs.readFile(lockPath, "utf8")).toBe(before);
    } finally {
      await killWorker(holder);
    }
  });

  it("queues callers of one process, with the same bounded wait", async () => {
    await using dir = await tempDir();
    const lockPath = dir.join("x.lock");
    let inside = 0;
    let maxInside = 0;
    await Promise.all(
      Array.from({ length: 5 }, () =>
        withLock(lockPath, opts(5_000, 60_000), async () => {
          inside++;
          maxInside = Math.max(maxInside, inside);
          await new Promise((r) => setTimeout(r, 5));
          inside--;
        }),
      ),
    );
    expect(maxInside).toBe(1);
    const held = await acquireLock(lockPath, opts(1_000, 60_000));
    try {
      await expect(acquireLock(lockPath, opts(100, 60_000))).rejects.toThrow(/this process/);
    } finally {
      await held.release();
    }
    await expect(fs.readdir(dir.path)).resolves.toEqual([]);
  });
});

describe("stale locks", () => {
  it("a dead owner's lock is recovered at once", async () => {
    await using dir = await tempDir();
    const lockPath = dir.join("x.lock");
    await fs.writeFile(lockPath, ownerPayload(await deadPid()));
    expect(await inspectLock(lockPath, 600_000)).toMatchObject({
      stale: true,
      reason: "owner-dead",
    });
    const started = Date.now();
    const handle = await acquireLock(lockPath, opts(200, 600_000));
    expect(Date.now() - started).toBeLessThan(200);
    expect(JSON.parse(await fs.readFile(lockPath, "utf8"))).toMatchObject({ pid: process.pid });
    await handle.release();
    await expect(fs.stat(lockPath)).rejects.toMatchObject({ code: "ENOENT" });
  });

  it.skipIf(process.platform !== "linux")(
    "a live pid with another start time (pid reuse) counts as dead",
    async () => {
      await using dir = await tempDir();
      const lockPath = dir.join("x.lock");
      await fs.writeFile(lockPath, ownerPayload(process.pid, os.hostname(), "1"));
      const handle = await acquireLock(lockPath, opts(200, 600_000));
      await handle.release();
      // …while our own real start time keeps it alive.
      const real = await acquireLock(lockPath, opts(200, 600_000));
      const payload = await fs.readFile(lockPath, "utf8");
      await real.release();
      await fs.writeFile(lockPath, payload.replace(/"token":"[0-9a-f]+"/, '"token":"other"'));
      await expect(acquireLock(lockPath, opts(150, 600_000))).rejects.toBeInstanceOf(
        LockTimeoutError,
      );
    },
  );

  it.skipIf(process.platform !== "linux")(
    "a zombie owner (exited, not yet reaped) counts as dead",
    async () => {
      await using dir = await tempDir();
      const lockPath = dir.join("x.lock");
      // The shell backgrounds a child, then becomes `sleep`, which never reaps it: a zombie.
      const parent = spawn("sh", ["-c", "sleep 0.3 & echo $!; exec sleep 30"], {
        stdio: ["ignore", "pipe", "ignore"],
      });
      try {
        const zombie = Number(
          await new Promise<string>((resolve) =>
            parent.stdout.once("data", (d) => resolve(String(d))),
          ),
        );
        // No event announces a zombie: poll /proc briefly until the kernel shows one.
        let sawZombie = false;
        for (let i = 0; i < 300 && !sawZombie; i++) {
          const stat = await fs.readFile(`/proc/${zombie}/stat`, "utf8").catch(() => "");
          sawZombie = /\) Z /.test(stat);
          if (!sawZombie) await new Promise((r) => setTimeout(r, 10));
        }
        expect(sawZombie).toBe(true);
        expect(() => process.kill(zombie, 0)).not.toThrow();
        await fs.writeFile(lockPath, ownerPayload(zombie));
        const handle = await acquireLock(lockPath, opts(200, 600_000));
        await handle.release();
      } finally {
        parent.kill("SIGKILL");
      }
    },
  );

  it("an ownerless (unparsable) lock is recovered only after the stale time", async () => {
    await using dir = await tempDir();
    const lockPath = dir.join("x.lock");
    await fs.writeFile(lockPath, "garbage");
    const error = (await acquireLock(lockPath, opts(150, 60_000)).catch(
      (e: unknown) => e,
    )) as Error;
    expect(error).toBeInstanceOf(LockTimeoutError);
    expect(error.message).toContain(`${lockPath} names no owner`);
    expect(await fs.readFile(lockPath, "utf8")).toBe("garbage");
    await age(lockPath, 61_000);
    const handle = await acquireLock(lockPath, opts(150, 60_000));
    await handle.release();
  });

  it("another host's owner is stale only when it has not renewed for the stale time", async () => {
    await using dir = await tempDir();
    const lockPath = dir.join("x.lock");
    await fs.writeFile(lockPath, ownerPayload(1, "some-other-host"));
    const error = (await acquireLock(lockPath, opts(150, 60_000)).catch(
      (e: unknown) => e,
    )) as Error;
    expect(error).toBeInstanceOf(LockTimeoutError);
    expect(error.message).toContain("on host some-other-host");
    await age(lockPath, 61_000);
    const handle = await acquireLock(lockPath, opts(150, 60_000));
    await handle.release();
  });
});

describe("holding", () => {
  it("notices a lost lock before committing and never removes the new owner's lock", async () => {
    await using dir = await tempDir();
    const lockPath = dir.join("x.lock");
    const handle = await acquireLock(lockPath, opts(1_000, 300));
    await handle.assertHeld();
    const foreign = ownerPayload(process.pid, "elsewhere");
    await fs.rm(lockPath);
    await fs.writeFile(lockPath, foreign);
    await expect(handle.assertHeld()).rejects.toBeInstanceOf(LockLostError);
    // The heartbeat (every staleMs/3) also aborts the holder's signal.
    await new Promise<void>((resolve) => {
      if (handle.signal.aborted) resolve();
      else handle.signal.addEventListener("abort", () => resolve(), { once: true });
    });
    await handle.release();
    expect(await fs.readFile(lockPath, "utf8")).toBe(foreign);
  });

  it("sweeps temp files of dead lock takers, not those of live ones or other hosts", async () => {
    await using dir = await tempDir();
    const lockPath = dir.join("x.lock");
    const dead = dir.join(`.x.lock.${await deadPid()}.0123456789ab.new`);
    const live = dir.join(`.x.lock.${process.pid}.0123456789ac.new`);
    const remote = dir.join(`.x.lock.4242.0123456789ad.new`);
    const oldTomb = dir.join(`.x.lock.4243.0123456789ae.stale`);
    await fs.writeFile(dead, ownerPayload(Number(dead.split(".").at(-3))));
    await fs.writeFile(live, ownerPayload(process.pid));
    await fs.writeFile(remote, ownerPayload(4242, "some-other-host"));
    await fs.writeFile(oldTomb, ownerPayload(4243, "some-other-host"));
    await age(oldTomb, 120_000);
    // Killed before writing anything: removed after a short grace, not while it may be in use.
    const emptyOld = dir.join(`.x.lock.${await deadPid()}.0123456789af.new`);
    const emptyFresh = dir.join(`.x.lock.${await deadPid()}.0123456789b0.new`);
    await fs.writeFile(emptyOld, "");
    await fs.writeFile(emptyFresh, "");
    await age(emptyOld, 10_000);
    expect(await removeOrphanLockTemps(lockPath, 60_000)).toBe(3);
    const left = (await fs.readdir(dir.path)).sort();
    const base = (p: string) => path.basename(p);
    expect(left).toEqual([base(remote), base(live), base(emptyFresh)].sort());
  });
});
