/**
 * The pool-exhausted wait's early wake (src/supervisor/usable-again.ts) against a real pool file
 * and its change poll: a change that leaves every account out only costs a read; one that shows an
 * account with room (another session's quota observation) ends the wait; an abort ends the watch.
 * The same across machines on PostgreSQL is in test/pool/pg-leases.test.ts.
 */
import { describe, expect, it } from "vitest";
import { CancelledError } from "../../src/platform/errors.js";
import { systemClock } from "../../src/platform/clock.js";
import { poolPaths } from "../../src/platform/paths.js";
import { FilePoolStore } from "../../src/pool/file-store.js";
import type { Account, Pool, QuotaSnapshot } from "../../src/pool/schema.js";
import { makeWindow } from "../../src/quota/windows.js";
import { usableAgain } from "../../src/supervisor/usable-again.js";
import { tempDir } from "../helpers/tmp.js";
import { settle } from "../helpers/virtual-clock.js";
import { accountWithId } from "../helpers/account-fixture.js";

const iso = (ms: number): string => new Date(ms).toISOString();

function snapshot(usedPercent: number): QuotaSnapshot {
  const now = Date.now();
  return {
    observedAt: iso(now),
    source: "usage-api",
    plan: "plus",
    windows: [makeWindow(300, usedPercent, new Date(now + 3600_000))],
    limitReached: usedPercent >= 100,
  };
}

function account(id: string, usedPercent: number): Account {
  return accountWithId(id, Date.now(), { quota: snapshot(usedPercent) });
}

/** The real pool file, telling each completed read (the watcher's look after a change). */
class ReadCountingStore extends FilePoolStore {
  reads = 0;
  private waiters: { after: number; resolve: () => void }[] = [];

  /** Settles once a read beyond the `after`-th has completed and its callers ran. */
  readPast(after: number): Promise<void> {
    return new Promise((resolve) => this.waiters.push({ after, resolve }));
  }

  override async read(): Promise<Pool> {
    const pool = await super.read();
    this.reads += 1;
    const ready = this.waiters.filter((w) => this.reads > w.after);
    this.waiters = this.waiters.filter((w) => !ready.includes(w));
    if (ready.length > 0) {
      void settle().then(() => {
        for (const w of ready) w.resolve();
      });
    }
    return pool;
  }
}

async function exhaustedPool(dir: string): Promise<ReadCountingStore> {
  const store = new ReadCountingStore({
    paths: poolPaths(dir),
    lockWaitMs: 5000,
    lockStaleMs: 30_000,
  });
  await store.transact((pool) => {
    pool.accounts = [account("acc_aaaaaa", 100), account("acc_bbbbbb", 100)];
  });
  return store;
}

const floors = { fiveHour: 5, weekly: 5 };

describe("the pool-exhausted wait's early wake", () => {
  it("a change that leaves every account out is only read; one that shows room ends the wait", async () => {
    await using dir = await tempDir();
    const store = await exhaustedPool(dir.path);
    const controller = new AbortController();
    let woken = false;
    const first = store.readPast(0); // the look right after subscribing
    const wake = usableAgain({ store, clock: systemClock, floors, pollMs: 10 }, controller.signal);
    void wake.then(() => (woken = true));
    await first;
    expect(woken).toBe(false);
    // Another session's heartbeat: a change, but nothing usable.
    const looked = store.readPast(store.reads);
    await store.transact((pool) => {
      pool.sessions.push({
        pid: 4242,
        host: "host-b",
        account: "acc_aaaaaa",
        sessionId: null,
        phase: "running",
        startedAt: iso(Date.now()),
        heartbeatAt: iso(Date.now()),
        expiresAt: iso(Date.now() + 90_000),
      });
    });
    await looked;
    expect(woken).toBe(false);
    // Another machine's observation: B has room again.
    await store.transact((pool) => {
      const b = pool.accounts.find((a) => a.id === "acc_bbbbbb");
      if (b) b.quota = snapshot(30);
    });
    await wake;
    expect(woken).toBe(true);
    controller.abort(); // after it settled: nothing more happens
  });

  it("already usable when it starts watching: settles at once", async () => {
    await using dir = await tempDir();
    const store = await exhaustedPool(dir.path);
    await store.transact((pool) => {
      const a = pool.accounts.find((x) => x.id === "acc_aaaaaa");
      if (a) a.quota = snapshot(10);
    });
    await usableAgain(
      { store, clock: systemClock, floors, pollMs: 10 },
      new AbortController().signal,
    );
  });

  it("an abort ends the watch with CancelledError", async () => {
    await using dir = await tempDir();
    const store = await exhaustedPool(dir.path);
    const controller = new AbortController();
    const first = store.readPast(0);
    const wake = usableAgain({ store, clock: systemClock, floors, pollMs: 10 }, controller.signal);
    await first;
    controller.abort();
    await expect(wake).rejects.toBeInstanceOf(CancelledError);
  });
});
