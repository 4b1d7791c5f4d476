/**
 * What only the shared pool has (src/pool/pg/, docs/team-pool.md), against a real PostgreSQL:
 * tokens encrypted at rest (no plaintext in a pg_dump, a ciphertext moved to another row fails),
 * the key and the schema checked and explained, the audit trail, a session on one machine steering
 * another machine's choice, `db migrate|push|pull`, and errors that never carry parameters.
 * Run `npm run build` first (the CLI and the worker run the built code).
 */
import fs from "node:fs/promises";
import { afterEach, describe, expect, it } from "vitest";
import { pgTool } from "../../src/bench/pg-cluster.js";
import { upsertAccount } from "../../src/pool/accounts.js";
import { DatabaseKeyError } from "../../src/pool/pg/crypto.js";
import { connect, sql } from "../../src/pool/pg/client.js";
import { DatabaseError, SchemaVersionError, sanitizeDbError } from "../../src/pool/pg/db.js";
import { BOOKKEEPING_SQL, MIGRATIONS } from "../../src/pool/pg/migrations.js";
import { FilePoolStore } from "../../src/pool/file-store.js";
import type { Account, Pool, Tokens } from "../../src/pool/schema.js";
import type { PoolStore } from "../../src/pool/store.js";
import { poolPaths } from "../../src/platform/paths.js";
import { chooseAccount, type ChooseDeps } from "../../src/supervisor/choose.js";
import { defaultAliveCheck, LiveSessionRecord } from "../../src/supervisor/live-sessions.js";
import { makeWindow } from "../../src/quota/windows.js";
import { runCli } from "../helpers/cli.js";
import { clusterForFile, migratedDatabase, newKey } from "../helpers/pg.js";
import { sharedStore } from "../../src/bench/pg-machines.js";
import { killWorker, startWorker } from "../helpers/pool-worker.js";
import { tempHomes } from "../helpers/tmp.js";
import { systemClock } from "../../src/platform/clock.js";

const cluster = await clusterForFile();

const stores: PoolStore[] = [];
afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
});

function open(home: string, env: Record<string, string>): PoolStore {
  const store = sharedStore(home, env);
  stores.push(store);
  return store;
}

let serial = 0;
function tokens(tag: string): Tokens {
  serial += 1;
  return {
    accessToken: `eyJhbGciOi.access-${tag}-${serial}-plaintext-marker.sig`,
    refreshToken: `rt_refresh-${tag}-${serial}-plaintext-marker`,
    idToken: `eyJhbGciOi.id-${tag}-${serial}-plaintext-marker.sig`,
    accessTokenExpiresAt: new Date(Date.now() + 3600_000).toISOString(),
    lastRefreshAt: new Date(Date.now() - 60_000 * serial).toISOString(),
  };
}

function add(pool: Pool, n: number, t = tokens(`u${n}`)): Account {
  return upsertAccount(
    pool,
    { accountId: `acct-${n}`, email: `user${n}@example.com`, plan: "plus", tokens: t },
    new Date(),
  ).account;
}

async function psql(url: string, query: string): Promise<string> {
  const db = new URL(url).pathname.slice(1);
  return pgTool(cluster!, "psql", ["-d", db, "-qAt", "-c", query]);
}

describe.skipIf(cluster === null)("the shared pool on PostgreSQL", () => {
  it("keeps no plaintext token in the database: a pg_dump holds none", async () => {
    await using homes = await tempHomes();
    const env = {
      CODEX_POOL_DATABASE_URL: await migratedDatabase(cluster!),
      CODEX_POOL_DATABASE_KEY: newKey(),
    };
    const store = open(homes.join("a"), env);
    const added = await store.transact((pool) => [add(pool, 1), add(pool, 2)]);
    // A refresh (new generation) too.
    await store.transact((pool) => {
      pool.accounts[0]!.tokens = tokens("rotated");
    });
    const secrets = (await store.read()).accounts.flatMap((a) => [
      a.tokens.accessToken,
      a.tokens.refreshToken,
      a.tokens.idToken,
    ]);
    secrets.push(...added.flatMap((a) => [a.tokens.refreshToken, a.tokens.accessToken]));
    const dump = await pgTool(cluster!, "pg_dump", [
      "-d",
      new URL(env.CODEX_POOL_DATABASE_URL).pathname.slice(1),
    ]);
    expect(dump).toContain("codex_pool.accounts");
    expect(dump).toContain("user1@example.com"); // the dump is real and holds the rows
    for (const secret of secrets) expect(dump).not.toContain(secret);
    expect(dump).not.toContain("plaintext-marker");
    expect(dump).not.toContain(Buffer.from("plaintext-marker").toString("hex"));
  });

  it("a wrong or missing key is refused and explained; a ciphertext moved to another row fails", async () => {
    await using homes = await tempHomes();
    const url = await migratedDatabase(cluster!);
    const key = newKey();
    const store = open(homes.join("a"), {
      CODEX_POOL_DATABASE_URL: url,
      CODEX_POOL_DATABASE_KEY: key,
    });
    await store.transact((pool) => [add(pool, 1), add(pool, 2)]);
    const wrong = open(homes.join("b"), {
      CODEX_POOL_DATABASE_URL: url,
      CODEX_POOL_DATABASE_KEY: newKey(),
    });
    await expect(wrong.read()).rejects.toThrow(DatabaseKeyError);
    await expect(wrong.read()).rejects.toThrow(/does not match the key/);
    const cli = { ...homes.env, CODEX_POOL_DATABASE_URL: url };
    const noKey = await runCli(["doctor", "--json"], { env: cli });
    const missing = JSON.parse(noKey.stdout) as {
      findings: { id: string; status: string; title: string }[];
    };
    expect(missing.findings).toContainEqual(
      expect.objectContaining({
        id: "database-key",
        status: "fail",
        title: expect.stringContaining("CODEX_POOL_DATABASE_KEY") as unknown,
      }),
    );
    const badKey = await runCli(["doctor", "--json"], {
      env: { ...cli, CODEX_POOL_DATABASE_KEY: newKey() },
    });
    expect(badKey.stdout).toContain("does not match the key");
    const list = await runCli(["list"], { env: { ...cli, CODEX_POOL_DATABASE_KEY: newKey() } });
    expect(list.code).toBe(1);
    expect(list.stderr.trim().split("\n")).toHaveLength(1);
    expect(list.stderr).toContain("does not match the key");
    // A key file must be private.
    const keyFile = homes.join("key");
    await fs.writeFile(keyFile, key + "\n", { mode: 0o644 });
    await fs.chmod(keyFile, 0o644);
    const loose = await runCli(["list"], {
      env: { ...cli, CODEX_POOL_DATABASE_KEY_FILE: keyFile },
    });
    expect(loose.stderr).toContain(`chmod 600 ${keyFile}`);
    await fs.chmod(keyFile, 0o600);
    const fromFile = await runCli(["list", "--json"], {
      env: { ...cli, CODEX_POOL_DATABASE_KEY_FILE: keyFile },
    });
    expect(fromFile.code).toBe(0);
    expect(JSON.parse(fromFile.stdout)).toMatchObject({
      accounts: [{ email: "user1@example.com" }, {}],
    });
    // The right key, but account 2's refresh token now holds account 1's ciphertext.
    await psql(
      url,
      "update codex_pool.accounts set refresh_token = (select refresh_token from codex_pool.accounts where position = 1) where position = 2",
    );
    const fresh = open(homes.join("c"), {
      CODEX_POOL_DATABASE_URL: url,
      CODEX_POOL_DATABASE_KEY: key,
    });
    await expect(fresh.read()).rejects.toThrow(/fails authentication/);
  });

  it("an unmigrated database is explained, and `db migrate` fixes it", async () => {
    await using homes = await tempHomes();
    const url = await cluster!.createDatabase();
    const env = { CODEX_POOL_DATABASE_URL: url, CODEX_POOL_DATABASE_KEY: newKey() };
    await expect(open(homes.join("a"), env).read()).rejects.toThrow(SchemaVersionError);
    const cli = { ...homes.env, ...env };
    const doctor = await runCli(["doctor", "--json"], { env: cli });
    expect(JSON.parse(doctor.stdout).findings).toContainEqual(
      expect.objectContaining({
        id: "database-schema",
        status: "fail",
        remedy: "codex-pool db migrate",
      }),
    );
    const list = await runCli(["list"], { env: cli });
    expect(list.code).toBe(1);
    expect(list.stderr).toContain("run codex-pool db migrate");
    const migrated = await runCli(["db", "migrate"], { env: cli });
    expect(migrated).toMatchObject({ code: 0 });
    expect(migrated.stdout).toContain("now at schema 2");
    expect((await runCli(["db", "migrate"], { env: cli })).stdout).toContain("up to date");
    expect((await runCli(["list", "--json"], { env: cli })).code).toBe(0);
  });

  it("a database at schema 1 is upgraded by `db migrate`; its sessions' codex holds the refresh token", async () => {
    await using homes = await tempHomes();
    const url = await cluster!.createDatabase();
    const env = { CODEX_POOL_DATABASE_URL: url, CODEX_POOL_DATABASE_KEY: newKey() };
    const db = await connect(url, { max: 1 });
    try {
      // As the first release of the shared pool left it: migration 1 only, one session row.
      await db.transaction(async (tx) => {
        await tx.script(BOOKKEEPING_SQL);
        await tx.script(MIGRATIONS[0]!.sql);
        await tx.count(
          sql`insert into codex_pool.migrations (version, name) values (1, ${MIGRATIONS[0]!.name})`,
        );
        await tx.script(`
          insert into codex_pool.sessions
            (host, pid, account, session_id, phase, started_at, heartbeat_at, expires_at)
          values ('host-b', 4242, 'acc_aaaaaa', null, 'running', now(), now(), now() + interval '1 hour')`);
      });
    } finally {
      await db.end(1000);
    }
    const cli = { ...homes.env, ...env };
    const list = await runCli(["list"], { env: cli });
    expect(list.code).toBe(1);
    expect(list.stderr).toContain("is at schema 1 of 2; run codex-pool db migrate");
    const migrated = await runCli(["db", "migrate"], { env: cli });
    expect(migrated.stdout).toContain("Applied migration(s) 2");
    const pool = await open(homes.join("a"), env).read();
    expect(pool.sessions).toEqual([
      expect.objectContaining({ host: "host-b", pid: 4242, holdsRefreshToken: true }),
    ]);
  });

  it("writes an append-only audit of logins, refreshes, leases, releases and removals, without tokens", async () => {
    await using homes = await tempHomes();
    const env = {
      CODEX_POOL_DATABASE_URL: await migratedDatabase(cluster!),
      CODEX_POOL_DATABASE_KEY: newKey(),
    };
    const store = open(homes.join("a"), env);
    const [a, b] = await store.transact((pool) => [add(pool, 1), add(pool, 2)]);
    await store.transact((pool) => {
      pool.accounts[0]!.tokens = tokens("next");
      pool.sessions.push({
        pid: 777,
        host: "laptop-1",
        account: b.id,
        sessionId: null,
        phase: "running",
        startedAt: new Date().toISOString(),
        heartbeatAt: new Date().toISOString(),
      });
    });
    await store.transact((pool) => {
      pool.sessions = [];
      pool.accounts = pool.accounts.filter((x) => x.id !== b.id);
    });
    const rows = await psql(
      env.CODEX_POOL_DATABASE_URL,
      "select action || ' ' || coalesce(account, '-') || ' ' || host || ' ' || pid || ' ' || db_role from codex_pool.audit order by id",
    );
    const actions = rows
      .trim()
      .split("\n")
      .map((l) => l.split(" ").slice(0, 2).join(" "));
    expect(actions).toEqual([
      `login ${a.id}`,
      `login ${b.id}`,
      `refresh ${a.id}`,
      `lease ${b.id}`,
      `release ${b.id}`,
      `remove ${b.id}`,
    ]);
    expect(rows).toContain(` ${process.pid} postgres`);
    const all = await psql(env.CODEX_POOL_DATABASE_URL, "select * from codex_pool.audit");
    expect(all).not.toContain("plaintext-marker");
    await expect(psql(env.CODEX_POOL_DATABASE_URL, "delete from codex_pool.audit")).rejects.toThrow(
      /append-only/,
    );
  });

  it("a session on machine 1 holding A makes machine 2 choose B", async () => {
    await using homes = await tempHomes();
    const env = {
      CODEX_POOL_DATABASE_URL: await migratedDatabase(cluster!),
      CODEX_POOL_DATABASE_KEY: newKey(),
    };
    const store = open(homes.join("m2"), env);
    const now = Date.now();
    const snap = (used: number) => ({
      observedAt: new Date(now).toISOString(),
      source: "usage-api" as const,
      plan: "plus",
      windows: [makeWindow(300, used, new Date(now + 3600_000))],
      limitReached: false,
    });
    const [a, b] = await store.transact((pool) => {
      const x = add(pool, 1);
      x.quota = snap(0); // A has the most headroom: chosen when free
      const y = add(pool, 2);
      y.quota = snap(50);
      return [x, y];
    });
    const clock = systemClock;
    const live = new LiveSessionRecord({ store, clock });
    const deps: ChooseDeps = {
      store,
      clock,
      floors: { fiveHour: 5, weekly: 5 },
      isAlive: defaultAliveCheck,
      live,
      pinned: null,
      sessionId: () => "s-machine-2",
      probe: () => Promise.resolve({ kind: "ok", snapshot: snap(0) }),
    };
    const start = { exclude: [], preferred: null, purpose: "start" } as const;
    const machine1 = startWorker(["hold-session", homes.join("m1"), a.id], env);
    try {
      await machine1.waitFor("holding");
      const chosen = await chooseAccount(deps, start, new AbortController().signal);
      expect(chosen).toMatchObject({ kind: "selected", account: { id: b.id } });
      const sessions = (await store.read()).sessions.map((s) => [s.account, s.pid]);
      expect(sessions).toContainEqual([a.id, machine1.child.pid]);
      expect(sessions).toContainEqual([b.id, process.pid]);
    } finally {
      await killWorker(machine1);
      await live.close();
    }
    // Machine 1 is gone: A is free again.
    const again = await chooseAccount(deps, start, new AbortController().signal);
    expect(again).toMatchObject({ kind: "selected", account: { id: a.id } });
    await live.close();
  }, 60_000);

  it("db push and db pull lose no account and never overwrite newer tokens", async () => {
    await using homes = await tempHomes();
    const env = {
      CODEX_POOL_DATABASE_URL: await migratedDatabase(cluster!),
      CODEX_POOL_DATABASE_KEY: newKey(),
    };
    const cli = { ...homes.env, ...env };
    const db = open(homes.join("db-view"), env);
    const file = new FilePoolStore({
      paths: poolPaths(homes.poolHome),
      lockWaitMs: 5000,
      lockStaleMs: 30_000,
    });
    const older = tokens("old");
    const newer = { ...tokens("new"), lastRefreshAt: new Date().toISOString() };
    // Account 1: the file holds newer tokens; account 2: the database does; 3 only in the file,
    // 4 only in the database.
    await file.transact((pool) => {
      add(pool, 1, newer);
      add(pool, 2, older);
      add(pool, 3);
    });
    const [, dbTwo] = await db.transact((pool) => [
      add(pool, 1, older),
      add(pool, 2, newer),
      add(pool, 4),
    ]);
    const pushed = await runCli(["db", "push"], { env: cli });
    expect(pushed.code).toBe(0);
    expect(pushed.stdout).toContain("1 account(s) added, 1 with newer tokens taken, 1 kept");
    const inDb = await db.read();
    const byEmail = (p: Pool, n: number) =>
      p.accounts.find((x) => x.email === `user${n}@example.com`);
    expect(inDb.accounts.map((x) => x.email).sort()).toEqual(
      [1, 2, 3, 4].map((n) => `user${n}@example.com`),
    );
    expect(byEmail(inDb, 1)?.tokens.refreshToken).toBe(newer.refreshToken);
    expect(byEmail(inDb, 2)?.tokens.refreshToken).toBe(newer.refreshToken);
    expect(byEmail(inDb, 2)?.id).toBe(dbTwo.id);
    const pulled = await runCli(["db", "pull"], { env: cli });
    expect(pulled.code).toBe(0);
    const local = await file.read();
    expect(local.accounts.map((x) => x.email).sort()).toEqual(
      [1, 2, 3, 4].map((n) => `user${n}@example.com`),
    );
    expect(byEmail(local, 2)?.tokens.refreshToken).toBe(newer.refreshToken);
    expect(byEmail(local, 1)?.tokens.refreshToken).toBe(newer.refreshToken);
    // Nothing secret on the way.
    for (const out of [pushed, pulled]) {
      expect(out.stdout + out.stderr).not.toContain("plaintext-marker");
      expect(out.stdout + out.stderr).not.toContain(env.CODEX_POOL_DATABASE_KEY);
    }
  });

  it("database errors carry neither parameters nor the URL's password", async () => {
    const url = await cluster!.createDatabase();
    const secret = "rt_super-secret-parameter";
    // The client's own error quotes the parameter in its message (and in `where`, where the
    // server names the failing parameter): what the redaction is for.
    const pg = (await import("pg")).default;
    const raw = new pg.Client({ connectionString: url });
    await raw.connect();
    try {
      const error = await raw.query("select $1::int", [secret]).then(
        () => null,
        (e: unknown) => e,
      );
      expect(String((error as Error).message)).toContain(secret);
    } finally {
      await raw.end();
    }
    const db = await connect(url, { max: 1 });
    try {
      for (const failing of [
        db.rows(sql`select ${secret}::int`),
        db.transaction((tx) => tx.rows(sql`select ${secret}::int`)),
      ]) {
        const clean = (await failing.then(
          () => null,
          (e: unknown) => e,
        )) as DatabaseError & Record<string, unknown>;
        expect(clean).toBeInstanceOf(DatabaseError);
        expect(clean.code).toBe("22P02");
        expect(clean.message).toContain("invalid input syntax");
        expect(clean.message).not.toContain(secret);
        expect(JSON.stringify({ ...clean, message: clean.message })).not.toContain(secret);
        expect(clean.cause).toBeUndefined();
      }
      // The connection that ran them is still good.
      expect(await db.rows<{ one: number }>(sql`select 1 as one`)).toEqual([{ one: 1 }]);
    } finally {
      await db.end(1000);
    }
    const withPassword = url
      .replace("postgres@", "postgres:hunter2-password@")
      .replace(/\/[^/]+$/, "/no_such_db");
    const other = await connect(withPassword, { max: 1 });
    const refused = await other.rows(sql`select 1`).then(
      () => null,
      (e: unknown) => e,
    );
    await other.end(1000);
    expect(refused).toBeInstanceOf(DatabaseError);
    expect((refused as Error).message).toContain("does not exist");
    expect((refused as Error).message).not.toContain("hunter2-password");
    expect((refused as Error).message).toContain("postgres:***@");
    // Nobody listening on a port: unreachable, said as such.
    const closed = url.replace(/:\d+\//, ":1/");
    const nobody = await connect(closed, { max: 1 });
    const unreachable = await nobody.rows(sql`select 1`).then(
      () => null,
      (e: unknown) => e,
    );
    await nobody.end(1000);
    expect((unreachable as Error).message).toMatch(
      /^cannot reach the pool database at .*ECONNREFUSED/,
    );
    expect(sanitizeDbError(unreachable, closed)).toBe(unreachable);
  });
});
