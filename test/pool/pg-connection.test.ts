/**
 * The connection to the shared pool's database (src/pool/pg/client.ts, listener.ts;
 * docs/team-pool.md "The client"), against a real PostgreSQL:
 * - a transaction whose connection the server ends mid-way fails with a clear error, and its
 *   process lives on and commits its next transaction (the client we left crashed there);
 * - a LISTEN connection the server ends comes back by itself, and a change committed while it was
 *   down is seen (notifications are never replayed: the reconnect re-reads);
 * - 64-bit columns arrive as the code reads them; a password reaches the server from the URL or
 *   PGPASSWORD; a file pool never loads the client.
 * Run `npm run build` first (the workers run the built code).
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { PASSWORD_ROLE } from "../../src/bench/pg-cluster.js";
import { upsertAccount } from "../../src/pool/accounts.js";
import { openPoolStore } from "../../src/pool/open-store.js";
import { connect, sql, type Db, type Tx } from "../../src/pool/pg/client.js";
import { clientConfig } from "../../src/pool/pg/connection-settings.js";
import { DatabaseError } from "../../src/pool/pg/db.js";
import { PgPoolStore } from "../../src/pool/pg/pg-store.js";
import { sealTokens } from "../../src/pool/pg/rows.js";
import type { Account, Pool } from "../../src/pool/schema.js";
import type { PoolStore } from "../../src/pool/store.js";
import { systemClock } from "../../src/platform/clock.js";
import { poolPaths } from "../../src/platform/paths.js";
import { defaultSettings } from "../../src/platform/settings.js";
import { ROOT } from "../helpers/cli.js";
import { clusterForFile, migratedDatabase, newKey } from "../helpers/pg.js";
import { killWorker, startWorker } from "../helpers/pool-worker.js";
import { tempDir, type TempDir } from "../helpers/tmp.js";

const cluster = await clusterForFile();
const admin: Db | null = cluster ? await connect(cluster.adminUrl, { max: 1 }) : null;
afterAll(() => admin?.end(1000));

const stores: PoolStore[] = [];
afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
});

function open(
  home: string,
  env: Record<string, string>,
  listenUrl = "",
  extraEnv: Record<string, string> = {},
): PgPoolStore {
  const settings = defaultSettings({
    databaseUrl: env["CODEX_POOL_DATABASE_URL"] ?? "",
    databaseListenUrl: listenUrl,
  });
  const store = openPoolStore({
    settings,
    env: { ...env, ...extraEnv },
    paths: poolPaths(home),
    clock: systemClock,
  });
  if (!(store instanceof PgPoolStore)) throw new Error("not the database store");
  stores.push(store);
  return store;
}

function add(pool: Pool, n: number): Account {
  return upsertAccount(
    pool,
    {
      accountId: `acct-${n}`,
      email: `user${n}@example.com`,
      plan: "plus",
      tokens: {
        accessToken: `at-${n}`,
        refreshToken: `rt-${n}`,
        idToken: "",
        accessTokenExpiresAt: new Date(Date.now() + 3600_000).toISOString(),
        lastRefreshAt: null,
      },
    },
    new Date(),
  ).account;
}

async function world(dir: TempDir): Promise<{ url: string; env: Record<string, string> }> {
  const url = await migratedDatabase(cluster!);
  return {
    url,
    env: { CODEX_POOL_DATABASE_URL: url, CODEX_POOL_DATABASE_KEY: newKey(), HOME: dir.path },
  };
}

const dbName = (url: string): string => new URL(url).pathname.slice(1);

/** Resolves once none of these server processes is left. */
async function gone(pids: number[]): Promise<void> {
  for (;;) {
    const [row] = await admin!.rows<{ n: number }>(
      sql`select count(*)::int as n from pg_stat_activity where pid = any(${pids}::int[])`,
    );
    if (row?.n === 0) return;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Counts calls; `reached(n)` resolves once there have been n. */
function counter(): {
  fire: () => void;
  count: () => number;
  reached: (n: number) => Promise<void>;
} {
  let n = 0;
  const waiting: { at: number; resolve: () => void }[] = [];
  return {
    fire: () => {
      n += 1;
      for (const w of waiting.filter((x) => x.at <= n)) {
        waiting.splice(waiting.indexOf(w), 1);
        w.resolve();
      }
    },
    count: () => n,
    reached: (at) =>
      at <= n ? Promise.resolve() : new Promise((resolve) => waiting.push({ at, resolve })),
  };
}

/** Warnings the process emitted (the client's would reach the user's terminal on stderr). */
const warnings: string[] = [];
const onWarning = (w: Error): void => void warnings.push(`${w.name}: ${w.message}`);
beforeEach(() => {
  warnings.length = 0;
  process.on("warning", onWarning);
});
afterEach(() => {
  process.off("warning", onWarning);
});

describe("reading a database URL", () => {
  it("keeps libpq's sslmode, takes the URL's password, and warns about nothing", async () => {
    const base = "postgres://alice:pw@db.example.com:6543/codex";
    const require = await clientConfig(`${base}?sslmode=require`, "codex-pool");
    expect(require).toMatchObject({
      host: "db.example.com",
      port: 6543,
      user: "alice",
      password: "pw",
      database: "codex",
      ssl: { rejectUnauthorized: false },
      application_name: "codex-pool",
    });
    expect((await clientConfig(`${base}?sslmode=verify-full`, "x")).ssl).toEqual({});
    expect((await clientConfig(`${base}?sslmode=disable`, "x")).ssl).toBe(false);
    expect((await clientConfig(base, "x")).ssl).toBeUndefined();
    // No password in the URL: asked for only when the server wants one, from PGPASSWORD.
    const bare = await clientConfig("postgres://alice@db.example.com/codex", "x", {
      PGPASSWORD: "from-env",
    });
    expect(typeof bare.password).toBe("function");
    expect((bare.password as () => string)()).toBe("from-env");
    const none = await clientConfig("postgres://alice@db.example.com/codex", "x", {});
    expect(() => (none.password as () => string)()).toThrow(
      /asks for a password and none was given/,
    );
    expect(warnings).toEqual([]);
  });
});

describe.skipIf(cluster === null)("the connection to the shared pool's database", () => {
  it("a transaction whose connection the server ends mid-way fails clearly; its process lives on and its next transaction commits", async () => {
    await using dir = await tempDir();
    const { url, env } = await world(dir);
    const store = open(dir.join("test"), env);
    const [a] = await store.transact((pool) => [add(pool, 1)]);
    const worker = startWorker(["cut-in-tx", dir.join("m1"), a.id], env);
    try {
      await worker.waitFor("in-tx");
      // Its change is running: its connection sits idle inside the transaction. End it.
      const held = await admin!.rows<{ pid: number }>(sql`
        select pid from pg_stat_activity
         where datname = ${dbName(url)} and state = 'idle in transaction'`);
      expect(held).toHaveLength(1);
      const pids = held.map((r) => r.pid);
      await admin!.rows(sql`select pg_terminate_backend(pid) from unnest(${pids}::int[]) pid`);
      await gone(pids);
      worker.child.kill("SIGUSR2");
      const done = await worker.exited;
      expect(done.stdout).toMatch(
        /failed: the connection to the pool database at \S+ was lost during a transaction \(.*57P01.*\): nothing of it was stored/,
      );
      expect(done.stdout).toContain("next: committed");
      expect(done).toMatchObject({ code: 0, signal: null });
      const row = (await store.read()).accounts.find((x) => x.id === a.id);
      expect(row?.label).toBe("after");
    } finally {
      await killWorker(worker);
    }
  }, 60_000);

  it("a transaction of this process whose connection is ended rejects, and the next one on the same store commits", async () => {
    await using dir = await tempDir();
    const { env } = await world(dir);
    const store = open(dir.join("test"), env);
    const [a] = await store.transact((pool) => [add(pool, 1)]);
    const cut = store.withPoolLock(async (tx) => {
      const [me] = await tx.rows<{ pid: number }>(sql`select pg_backend_pid() as pid`);
      await admin!.rows(sql`select pg_terminate_backend(${me!.pid}::int)`);
      await gone([me!.pid]);
      await tx.count(sql`update codex_pool.accounts set email = 'cut@example.com'`);
    });
    await expect(cut).rejects.toThrow(DatabaseError);
    await expect(cut).rejects.toThrow(/was lost during a transaction .*nothing of it was stored/);
    await store.transact((pool) => {
      pool.accounts[0]!.label = "next";
    });
    const row = (await store.read()).accounts[0];
    expect(row).toMatchObject({ id: a.id, email: "user1@example.com", label: "next" });
  });

  it("a transaction's statements run one after another, none after it ended, and nothing is printed", async () => {
    await using dir = await tempDir();
    const { url } = await world(dir);
    const db = await connect(url, { max: 2 });
    try {
      let leaked: Tx | null = null;
      const got = await db.transaction(async (tx) => {
        leaked = tx;
        // Sent together, answered in order on the transaction's one connection.
        return Promise.all(
          [1, 2, 3, 4, 5].map((n) =>
            tx.rows<{ n: number; pid: number }>(
              sql`select ${n}::int as n, pg_backend_pid() as pid`,
            ),
          ),
        );
      });
      expect(got.map((r) => r[0]!.n)).toEqual([1, 2, 3, 4, 5]);
      expect(new Set(got.map((r) => r[0]!.pid)).size).toBe(1);
      await expect(leaked!.rows(sql`select 1`)).rejects.toThrow(/after its transaction ended/);
      // A failed statement rolls the transaction back; the connection serves the next one.
      await db.count(sql`create table t (v int)`);
      await expect(
        db.transaction(async (tx) => {
          await tx.count(sql`insert into t values (1)`);
          await tx.rows(sql`select ${"not a number"}::int`);
        }),
      ).rejects.toThrow(DatabaseError);
      expect(await db.rows(sql`select count(*)::int as n from t`)).toEqual([{ n: 0 }]);
    } finally {
      await db.end(1000);
    }
    expect(warnings).toEqual([]);
  });

  it("a LISTEN connection the server ends comes back, and a change made while it was down is seen", async () => {
    await using dir = await tempDir();
    const { url, env } = await world(dir);
    // The listener signs in as a role of its own, so the test can keep it out for a while.
    const role = `listen_${process.pid}_${Date.now().toString(36)}`;
    await admin!.script(`create role ${role} login`);
    const listenUrl = url.replace("postgres@", `${role}@`);
    const watcher = open(dir.join("watcher"), env, listenUrl);
    const writer = open(dir.join("writer"), env);
    await writer.transact((pool) => void add(pool, 1));
    const changes = counter();
    // No poll to speak of: only LISTEN, or the re-read after its reconnect, can cue a change.
    const subscription = await watcher.subscribe(changes.fire, { pollMs: 3600_000 });
    try {
      const label = (text: string) =>
        writer.transact((pool) => {
          pool.accounts[0]!.label = text;
        });
      await label("notified");
      await changes.reached(1);
      // Kept out, then cut off: the next change is notified to nobody.
      await admin!.script(`alter role ${role} nologin`);
      const held = await admin!.rows<{ pid: number }>(
        sql`select pid from pg_stat_activity where usename = ${role}`,
      );
      expect(held).toHaveLength(1);
      await admin!.rows(
        sql`select pg_terminate_backend(pid) from unnest(${held.map((r) => r.pid)}::int[]) pid`,
      );
      await gone(held.map((r) => r.pid));
      await label("while-down");
      const before = changes.count();
      await admin!.script(`alter role ${role} login`);
      // Back in: the reconnect re-reads, and the change made meanwhile is there.
      await changes.reached(before + 1);
      expect((await watcher.read()).accounts[0]!.label).toBe("while-down");
      const back = await admin!.rows<{ pid: number }>(
        sql`select pid from pg_stat_activity where usename = ${role}`,
      );
      expect(back).toHaveLength(1);
      // LISTENing again: the next change is notified.
      const after = changes.count();
      await label("notified-again");
      await changes.reached(after + 1);
      expect((await watcher.read()).accounts[0]!.label).toBe("notified-again");
    } finally {
      await subscription.close();
      await admin!.script(`alter role ${role} login`);
    }
    // Closed: its connection goes away.
    const left = await admin!.rows<{ pid: number }>(
      sql`select pid from pg_stat_activity where usename = ${role}`,
    );
    await gone(left.map((r) => r.pid));
  }, 60_000);

  it("64-bit columns arrive as the code reads them: generations and versions as numbers past 2^32, fences as text", async () => {
    await using dir = await tempDir();
    const { env } = await world(dir);
    const store = open(dir.join("test"), env);
    const [a] = await store.transact((pool) => [add(pool, 1)]);
    const big = 2 ** 33 + 7;
    // An account whose tokens are at generation 2^33 + 7 (sealed for it), and a version past 2^40.
    await store.withPoolLock(async (tx, { cipher }) => {
      const sealed = sealTokens(cipher, a.id, big, a.tokens);
      await tx.count(sql`
        update codex_pool.accounts set token_generation = ${big},
          access_token = ${sealed.access_token}, refresh_token = ${sealed.refresh_token},
          id_token = ${sealed.id_token} where id = ${a.id}`);
      await tx.count(sql`update codex_pool.pool set version = ${2 ** 40}`);
    });
    const loaded = await store.withPoolLock((tx, { cipher }) => store.load(tx, cipher));
    expect(loaded.generations.get(a.id)).toBe(big);
    expect(loaded.version).toBe(2 ** 40);
    // A change of tokens moves the generation by one (a string would have been concatenated).
    await store.transact((pool) => {
      pool.accounts[0]!.tokens = { ...pool.accounts[0]!.tokens, accessToken: "at-next" };
    });
    const after = await store.withPoolLock((tx, { cipher }) => store.load(tx, cipher));
    expect(after.generations.get(a.id)).toBe(big + 1);
    expect(after.version).toBe(2 ** 40 + 1);
    expect((await store.read()).accounts[0]!.tokens.accessToken).toBe("at-next");
    // The fence sequence past 2^53 still compares exactly, as text.
    const fence = await store.withPoolLock(async (tx) => {
      await tx.rows(sql`select setval('codex_pool.fence', ${(2n ** 60n).toString()}::int8)`);
      const [f] = await tx.rows<{ fence: unknown }>(
        sql`select nextval('codex_pool.fence')::text as fence`,
      );
      return f?.fence;
    });
    expect(fence).toBe((2n ** 60n + 1n).toString());
  });

  it("a password reaches the server from the URL, else from PGPASSWORD; without one the sign-in is refused, the password never shown", async () => {
    await using dir = await tempDir();
    const { url, env } = await world(dir);
    const secret = "s3cret-pw-for-the-test";
    await admin!.script(`drop role if exists ${PASSWORD_ROLE}`);
    await admin!.script(`create role ${PASSWORD_ROLE} login superuser password '${secret}'`);
    try {
      const withPassword = url.replace("postgres@", `${PASSWORD_ROLE}:${secret}@`);
      const bare = url.replace("postgres@", `${PASSWORD_ROLE}@`);
      // From the URL, for the pool and for its listener.
      const fromUrl = open(dir.join("a"), { ...env, CODEX_POOL_DATABASE_URL: withPassword });
      const changes = counter();
      const subscription = await fromUrl.subscribe(changes.fire, { pollMs: 3600_000 });
      try {
        await fromUrl.transact((pool) => void add(pool, 1));
        await changes.reached(1);
      } finally {
        await subscription.close();
      }
      // From PGPASSWORD when the URL has none.
      const fromEnv = open(dir.join("b"), { ...env, CODEX_POOL_DATABASE_URL: bare }, "", {
        PGPASSWORD: secret,
      });
      expect((await fromEnv.read()).accounts).toHaveLength(1);
      // Neither: refused, and said so.
      const none = open(dir.join("c"), { ...env, CODEX_POOL_DATABASE_URL: bare });
      const refused = await none.read().then(
        () => null,
        (e: unknown) => e,
      );
      expect(refused).toBeInstanceOf(DatabaseError);
      expect((refused as Error).message).toContain("asks for a password and none was given");
      const wrong = open(dir.join("d"), {
        ...env,
        CODEX_POOL_DATABASE_URL: withPassword.replace(secret, `${secret}-wrong`),
      });
      const denied = (await wrong.read().then(
        () => null,
        (e: unknown) => e,
      )) as Error;
      expect(denied.message).toContain("refused the sign-in");
      expect(denied.message).not.toContain(secret);
    } finally {
      await Promise.all(stores.splice(0).map((s) => s.close()));
      await admin!.script(`drop role if exists ${PASSWORD_ROLE}`);
    }
  });

  it("a file pool never loads the PostgreSQL client; a database pool loads it on first use", async () => {
    await using dir = await tempDir();
    const { env } = await world(dir);
    const script = `
      import { createRequire } from "node:module";
      import { openPoolStore } from "./dist/pool/open-store.js";
      import { poolPaths } from "./dist/platform/paths.js";
      import { defaultSettings } from "./dist/platform/settings.js";
      import { systemClock } from "./dist/platform/clock.js";
      const loaded = () => Object.keys(createRequire(import.meta.url).cache)
        .some((f) => f.includes("/node_modules/pg/"));
      const open = (databaseUrl) => openPoolStore({ settings: defaultSettings({ databaseUrl }),
        env: process.env, paths: poolPaths(process.argv[1]), clock: systemClock });
      await open("").read();
      const file = loaded();
      const db = open(process.env.CODEX_POOL_DATABASE_URL);
      const opened = loaded();
      await db.read();
      const used = loaded();
      await db.close();
      process.stdout.write(JSON.stringify({ file, opened, used }));
    `;
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ["--input-type=module", "-e", script, dir.join("home")],
      { cwd: ROOT, env: { ...process.env, ...env } },
    );
    expect(JSON.parse(stdout)).toEqual({ file: false, opened: false, used: true });
  });
});
