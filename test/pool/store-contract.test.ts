/**
 * The pool store's contract (src/pool/store.ts), one suite run against both backends: the JSON
 * file and a real PostgreSQL server (test/helpers/pg.ts). Whatever the backend, a change commits
 * whole or not at all, a bad change never reaches storage, concurrent writers (in one process and
 * across processes) lose nothing, accounts keep their order, tokens and states, live sessions
 * round-trip, and a commit by another store instance reaches a subscriber.
 */
import { randomBytes } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { upsertAccount } from "../../src/pool/accounts.js";
import { openPoolStore } from "../../src/pool/open-store.js";
import type { Account, Pool, Tokens } from "../../src/pool/schema.js";
import type { PoolStore } from "../../src/pool/store.js";
import { poolPaths } from "../../src/platform/paths.js";
import { defaultSettings } from "../../src/platform/settings.js";
import { isLive, liveSessionAccounts, refreshHeldAccounts } from "../../src/pool/live-sessions.js";
import { putSession } from "../../src/supervisor/live-sessions.js";
import { clusterForFile, migratedDatabase, newKey } from "../helpers/pg.js";
import { startWorker } from "../helpers/pool-worker.js";
import { tempDir, type TempDir } from "../helpers/tmp.js";
import { systemClock } from "../../src/platform/clock.js";

const cluster = await clusterForFile();

interface Backend {
  name: string;
  skip: boolean;
  /**
   * A fresh, empty pool: the env that selects it, and a function opening a store on it from a
   * pool home. A file pool lives in its home, so every "machine" of a file pool shares one home.
   */
  fresh: (dir: TempDir) => Promise<{
    env: Record<string, string>;
    open: (home: string) => PoolStore;
    homeOf: (home: string) => string;
  }>;
}

const backends: Backend[] = [
  {
    name: "file",
    skip: false,
    fresh: (dir) => {
      const home = dir.join("pool");
      return Promise.resolve({ env: {}, open: () => openStore(home, {}), homeOf: () => home });
    },
  },
  {
    name: "postgres",
    skip: cluster === null,
    fresh: async () => {
      const env = {
        CODEX_POOL_DATABASE_URL: await migratedDatabase(cluster!),
        CODEX_POOL_DATABASE_KEY: newKey(),
      };
      return { env, open: (home) => openStore(home, env), homeOf: (home) => home };
    },
  },
];

const opened: PoolStore[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close()));
});

function openStore(home: string, env: Record<string, string>): PoolStore {
  const url = env["CODEX_POOL_DATABASE_URL"] ?? "";
  const settings = defaultSettings({ databaseUrl: url, lockWaitMs: 30_000 });
  const store = openPoolStore({ settings, env, paths: poolPaths(home), clock: systemClock });
  opened.push(store);
  return store;
}

function tokens(tag: string): Tokens {
  return {
    accessToken: `at-${tag}-${randomBytes(8).toString("hex")}`,
    refreshToken: `rt-${tag}-${randomBytes(8).toString("hex")}`,
    idToken: `id-${tag}`,
    accessTokenExpiresAt: new Date(Date.now() + 3600_000).toISOString(),
    lastRefreshAt: null,
  };
}

function add(pool: Pool, n: number): Account {
  return upsertAccount(
    pool,
    {
      accountId: `acct-${n}`,
      email: `user${n}@example.com`,
      plan: "plus",
      tokens: tokens(`u${n}`),
    },
    new Date(),
  ).account;
}

describe.each(backends)("pool store contract: $name", (backend) => {
  it.skipIf(backend.skip)(
    "starts empty and keeps accounts, order, tokens and the default",
    async () => {
      await using dir = await tempDir();
      const { open } = await backend.fresh(dir);
      const store = open(dir.join("a"));
      expect(await store.read()).toMatchObject({
        accounts: [],
        sessions: [],
        defaultAccount: null,
      });
      const added = await store.transact((pool) => [add(pool, 1), add(pool, 2), add(pool, 3)]);
      // Another instance (another machine's, for the database) sees the same pool.
      const other = open(dir.join("b"));
      const pool = await other.read();
      expect(pool.accounts.map((a) => a.id)).toEqual(added.map((a) => a.id));
      expect(pool.accounts.map((a) => a.tokens)).toEqual(added.map((a) => a.tokens));
      expect(pool.defaultAccount).toBe(added[0]!.id);
      // Reordering and removal stick.
      await store.transact((p) => {
        p.accounts.reverse();
        p.accounts = p.accounts.filter((a) => a.id !== added[1]!.id);
        p.defaultAccount = added[2]!.id;
      });
      const after = await store.read();
      expect(after.accounts.map((a) => a.id)).toEqual([added[2]!.id, added[0]!.id]);
      expect(after.defaultAccount).toBe(added[2]!.id);
    },
  );

  it.skipIf(backend.skip)("a throw or an invalid change commits nothing", async () => {
    await using dir = await tempDir();
    const { open } = await backend.fresh(dir);
    const store = open(dir.join("a"));
    const [first] = await store.transact((pool) => [add(pool, 1)]);
    const before = await store.read();
    await expect(
      store.transact((pool) => {
        add(pool, 2);
        pool.accounts[0]!.label = "changed";
        throw new Error("change failed");
      }),
    ).rejects.toThrow("change failed");
    await expect(
      store.transact((pool) => {
        pool.accounts[0]!.tokens.refreshToken = ""; // fails the schema
      }),
    ).rejects.toThrow();
    expect(await store.read()).toEqual(before);
    expect(before.accounts[0]!.id).toBe(first.id);
  });

  it.skipIf(backend.skip)(
    "tokens, states and quota round-trip; afterCommit sees the result",
    async () => {
      await using dir = await tempDir();
      const { open } = await backend.fresh(dir);
      const store = open(dir.join("a"));
      const [a, b] = await store.transact((pool) => [add(pool, 1), add(pool, 2)]);
      const next = tokens("next");
      const since = new Date().toISOString();
      let seen: string | null = null;
      await store.transact(
        (pool) => {
          pool.accounts[0]!.tokens = next;
          pool.accounts[1]!.state = { kind: "in-doubt", reason: "test", since };
          pool.accounts[1]!.quota = {
            observedAt: since,
            source: "usage-api",
            plan: "plus",
            windows: [{ kind: "5h", windowMinutes: 300, usedPercent: 42, resetsAt: null }],
            limitReached: false,
          };
          return "done";
        },
        {
          afterCommit: (result) => {
            seen = result;
            return Promise.resolve();
          },
        },
      );
      expect(seen).toBe("done");
      const pool = await store.read();
      expect(pool.accounts.find((x) => x.id === a.id)!.tokens).toEqual(next);
      const rowB = pool.accounts.find((x) => x.id === b.id)!;
      expect(rowB.state).toEqual({ kind: "in-doubt", reason: "test", since });
      expect(rowB.quota?.windows[0]?.usedPercent).toBe(42);
    },
  );

  it.skipIf(backend.skip)(
    "live sessions round-trip with fresh heartbeats and go away",
    async () => {
      await using dir = await tempDir();
      const { open } = await backend.fresh(dir);
      const store = open(dir.join("a"));
      const [a] = await store.transact((pool) => [add(pool, 1)]);
      const me = { pid: 4242, host: "machine-1" };
      await store.transact((pool) => {
        putSession(pool, me, { account: a.id, sessionId: "s-1", phase: "running" }, Date.now());
      });
      const pool = await store.read();
      expect(pool.sessions).toHaveLength(1);
      expect(pool.sessions[0]).toMatchObject({
        ...me,
        account: a.id,
        sessionId: "s-1",
        phase: "running",
      });
      // The heartbeat is recent on this machine's clock, whoever's clock stamped it.
      expect(Math.abs(Date.now() - Date.parse(pool.sessions[0]!.heartbeatAt))).toBeLessThan(60_000);
      await store.transact((p) => {
        p.sessions = [];
      });
      expect((await store.read()).sessions).toEqual([]);
    },
  );

  it.skipIf(backend.skip)(
    "a lease keeps its terms: its TTL (its expiry on this machine's clock) and whether its codex holds the refresh token",
    async () => {
      await using dir = await tempDir();
      const { open } = await backend.fresh(dir);
      const store = open(dir.join("a"));
      const [a, b] = await store.transact((pool) => [add(pool, 1), add(pool, 2)]);
      const relaunch = { pid: 4242, host: "machine-1" };
      const live = { pid: 4343, host: "machine-2" };
      await store.transact((pool) => {
        const now = Date.now();
        const entry = { sessionId: "s-1", phase: "running" } as const;
        const lease = { ttlMs: 40_000 };
        putSession(pool, relaunch, { ...entry, account: a.id, mode: "relaunch" }, now, lease);
        putSession(pool, live, { ...entry, account: b.id, mode: "live" }, now, lease);
      });
      const pool = await store.read();
      const now = Date.now();
      for (const s of pool.sessions) {
        const span = Date.parse(s.expiresAt!) - Date.parse(s.heartbeatAt);
        expect(Math.abs(span - 40_000)).toBeLessThan(1000);
        expect(isLive(s, now, () => true)).toBe(true);
        expect(isLive(s, Date.parse(s.heartbeatAt) + 41_000, () => true)).toBe(false);
      }
      expect([...refreshHeldAccounts(pool, now, () => true)]).toEqual([a.id]);
      expect([...liveSessionAccounts(pool, now, () => true)].sort()).toEqual([a.id, b.id].sort());
    },
  );

  it.skipIf(backend.skip)("20 concurrent transactions in one process lose no update", async () => {
    await using dir = await tempDir();
    const { open } = await backend.fresh(dir);
    const store = open(dir.join("a"));
    await store.transact((pool) => {
      add(pool, 1).label = "0";
    });
    await Promise.all(
      Array.from({ length: 20 }, () =>
        store.transact((pool) => {
          const row = pool.accounts[0]!;
          row.label = String(Number(row.label) + 1);
        }),
      ),
    );
    expect((await store.read()).accounts[0]!.label).toBe("20");
  });

  it.skipIf(backend.skip)(
    "4 processes x 25 transactions on their own homes lose no update",
    async () => {
      await using dir = await tempDir();
      const { env, open, homeOf } = await backend.fresh(dir);
      const store = open(dir.join("seed"));
      const [counter] = await store.transact((pool) => {
        const row = add(pool, 1);
        row.label = "0";
        return [row];
      });
      const workers = Array.from({ length: 4 }, (_, i) =>
        startWorker(["count-store", homeOf(dir.join(`h${i}`)), counter.id, "25"], env),
      );
      const results = await Promise.all(workers.map((w) => w.exited));
      for (const r of results) expect(r).toMatchObject({ code: 0, stdout: "done\n" });
      expect((await store.read()).accounts[0]!.label).toBe("100");
    },
    120_000,
  );

  it.skipIf(backend.skip)("a commit by another instance reaches a subscriber", async () => {
    await using dir = await tempDir();
    const { open } = await backend.fresh(dir);
    const home = dir.join("a");
    const watcher = open(home);
    await watcher.transact((pool) => void add(pool, 1));
    let fired = 0;
    let wake!: () => void;
    const changed = new Promise<void>((resolve) => (wake = resolve));
    const subscription = await watcher.subscribe(
      () => {
        fired += 1;
        wake();
      },
      { pollMs: 50 },
    );
    try {
      const writer = open(dir.join("b"));
      await writer.transact((pool) => {
        pool.accounts[0]!.label = "moved";
      });
      await changed;
      expect(fired).toBeGreaterThanOrEqual(1);
      expect((await watcher.read()).accounts[0]!.label).toBe("moved");
    } finally {
      await subscription.close();
    }
  });
});
