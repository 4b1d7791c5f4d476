/**
 * The account commands end to end: the BUILT CLI (run `npm run build` first) in real processes,
 * against throwaway pool and Codex homes. Every run's output is checked for the fixture tokens.
 */
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs/promises";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { poolPaths } from "../../src/platform/paths.js";
import { FilePoolStore } from "../../src/pool/file-store.js";
import type { PoolStore } from "../../src/pool/store.js";
import type { Pool } from "../../src/pool/schema.js";
import { CLI, runCli, type CliResult } from "../helpers/cli.js";
import {
  authJson,
  fixtureTokens,
  secretsOf,
  unsignedJwt,
  type FixtureTokens,
} from "../helpers/jwt.js";
import { tempHomes } from "../helpers/tmp.js";

const HAS_SCRIPT = process.platform === "linux" && spawnSync("script", ["--version"]).status === 0;

type Homes = Awaited<ReturnType<typeof tempHomes>>;

const secrets: string[] = [];
const outputs: { args: string[]; result: CliResult }[] = [];

function tokens(accountId: string, email: string, plan = "plus"): FixtureTokens {
  const t = fixtureTokens({ accountId, email, plan });
  secrets.push(...secretsOf(t));
  return t;
}

async function cli(homes: Homes, args: string[], input?: string): Promise<CliResult> {
  const result = await runCli(args, { env: homes.env, ...(input !== undefined ? { input } : {}) });
  outputs.push({ args, result });
  return result;
}

async function writeAuth(
  homes: Homes,
  value: unknown,
  file = path.join(homes.codexHome, "auth.json"),
) {
  await fs.writeFile(file, JSON.stringify(value, null, 2), { mode: 0o600 });
  return file;
}

const ALICE = { accountId: "acct-A", email: "alice@example.com" };
const BOB = { accountId: "acct-B", email: "bob@example.com" };

/** A pool with alice (1, default, plus) and bob (2, pro), imported through the CLI. */
async function twoAccounts(homes: Homes) {
  const alice = tokens(ALICE.accountId, ALICE.email, "plus");
  const bob = tokens(BOB.accountId, BOB.email, "pro");
  await writeAuth(homes, authJson(alice, ALICE.accountId, "2026-01-01T00:00:00.000Z"));
  expect((await cli(homes, ["import"])).code).toBe(0);
  const bobFile = await writeAuth(
    homes,
    authJson(bob, BOB.accountId, "2026-01-01T00:00:00.000Z"),
    path.join(homes.path, "bob-auth.json"),
  );
  expect((await cli(homes, ["import", "--auth-file", bobFile])).code).toBe(0);
  return { alice, bob };
}

function storeOf(homes: Homes): PoolStore {
  return new FilePoolStore({
    paths: poolPaths(homes.poolHome),
    lockWaitMs: 5_000,
    lockStaleMs: 30_000,
  });
}

async function readPool(homes: Homes): Promise<Pool> {
  return storeOf(homes).read();
}

async function mode(p: string): Promise<number> {
  return (await fs.stat(p)).mode & 0o777;
}

afterAll(() => {
  // No command printed any token, on stdout or stderr, in any test of this file.
  expect(outputs.length).toBeGreaterThan(20);
  for (const { args, result } of outputs) {
    for (const secret of secrets) {
      const out = result.stdout + result.stderr;
      if (out.includes(secret))
        throw new Error(`a token leaked in the output of ${args.join(" ")}`);
    }
  }
});

describe("import", () => {
  it("adds, updates, keeps newer tokens, and tells two workspaces of one email apart", async () => {
    await using homes = await tempHomes();
    const alice = tokens(ALICE.accountId, ALICE.email);
    await writeAuth(homes, authJson(alice, ALICE.accountId, "2026-02-01T00:00:00.000Z"));
    let r = await cli(homes, ["import"]);
    expect(r).toMatchObject({ code: 0, stderr: "" });
    expect(r.stdout).toBe("Imported #1 alice@example.com (plus), the default.\n");
    expect(await mode(homes.poolHome)).toBe(0o700);
    expect(await mode(path.join(homes.poolHome, "pool.json"))).toBe(0o600);

    r = await cli(homes, ["import"]);
    expect(r.stdout).toMatch(/^Updated #1 alice@example\.com \(plus\) with the tokens of /);

    // An older auth.json of the same account never replaces the pool's newer tokens.
    const old = tokens(ALICE.accountId, ALICE.email);
    const oldFile = await writeAuth(
      homes,
      authJson(old, ALICE.accountId, "2025-06-01T00:00:00.000Z"),
      path.join(homes.path, "old.json"),
    );
    r = await cli(homes, ["import", "--auth-file", oldFile]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("its tokens are newer");
    expect((await readPool(homes)).accounts[0]?.tokens.refreshToken).toBe(alice.refreshToken);

    // The same email in another workspace is another account.
    const team = tokens("acct-T", ALICE.email, "team");
    const teamFile = await writeAuth(
      homes,
      authJson(team, "acct-T", "2026-02-01T00:00:00.000Z"),
      path.join(homes.path, "team.json"),
    );
    r = await cli(homes, ["import", "--auth-file", teamFile]);
    expect(r.stdout).toBe("Imported #2 alice@example.com (team).\n");
    expect(await mode(path.join(homes.poolHome, "pool.json.bak"))).toBe(0o600);
    const pool = await readPool(homes);
    expect(pool.accounts.map((a) => [a.accountId, a.email])).toEqual([
      ["acct-A", "alice@example.com"],
      ["acct-T", "alice@example.com"],
    ]);
  });

  it.each([
    ["a missing file", null, /no Codex auth\.json at .*auth\.json/],
    [
      "an API-key-only file",
      { OPENAI_API_KEY: "sk-test-not-a-real-key" },
      /holds an API key, not a ChatGPT sign-in/,
    ],
    ["a file without tokens", { auth_mode: "chatgpt", tokens: null }, /holds no ChatGPT tokens/],
    ["a file that is not JSON", "{nope", /is not valid JSON/],
    [
      "tokens that name no account",
      {
        tokens: {
          id_token: unsignedJwt({ sub: "x" }),
          access_token: unsignedJwt({ sub: "x" }),
          refresh_token: "rrrrrrrrrrrrrrrr",
        },
        last_refresh: "2026-01-01T00:00:00Z",
      },
      /the tokens in .*auth\.json carry no ChatGPT account id, so the account cannot be identified/,
    ],
  ])("refuses %s with one clear line and exit 66 (auth_file)", async (_name, content, message) => {
    await using homes = await tempHomes();
    if (content !== null) {
      const file = path.join(homes.codexHome, "auth.json");
      await fs.writeFile(file, typeof content === "string" ? content : JSON.stringify(content));
    }
    const r = await cli(homes, ["import"]);
    expect(r.code).toBe(66);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
    await expect(fs.stat(path.join(homes.poolHome, "pool.json"))).rejects.toMatchObject({
      code: "ENOENT",
    });
  });
});

describe("list", () => {
  it("on an empty pool says how to add an account; --json gives an empty list", async () => {
    await using homes = await tempHomes();
    let r = await cli(homes, ["list"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("codex-pool login");
    expect(r.stdout).toContain("codex-pool import");
    r = await cli(homes, ["list", "--json"]);
    expect(JSON.parse(r.stdout)).toEqual({ accounts: [] });
  });

  it("shows a table and the --json contract, without tokens", async () => {
    await using homes = await tempHomes();
    await twoAccounts(homes);
    await storeOf(homes).transact((pool) => {
      pool.accounts[1]!.state = {
        kind: "needs-login",
        reason: "refresh_token_reused",
        since: new Date().toISOString(),
      };
      pool.accounts[1]!.label = "work";
    });
    let r = await cli(homes, ["list"]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^#\s+EMAIL\s+PLAN\s+LABEL\s+STATE\s+LAST USED$/);
    expect(lines[1]).toMatch(/^1\s+\*\s+alice@example\.com\s+plus\s+ok\s+never$/);
    expect(lines[2]).toMatch(
      /^2\s+bob@example\.com\s+pro\s+work\s+needs-login \(refresh_token_reused\)\s+never$/,
    );

    r = await cli(homes, ["list", "--json"]);
    const json = JSON.parse(r.stdout) as { accounts: Record<string, unknown>[] };
    const pool = await readPool(homes);
    expect(json.accounts).toHaveLength(2);
    expect(json.accounts[0]).toMatchObject({
      index: 1,
      id: pool.accounts[0]!.id,
      email: "alice@example.com",
      accountId: "acct-A",
      plan: "plus",
      state: "ok",
      default: true,
      label: null,
    });
    expect(json.accounts[1]).toMatchObject({
      index: 2,
      email: "bob@example.com",
      state: "needs-login",
      default: false,
      label: "work",
    });
    expect(json.accounts[0]!["id"]).toMatch(/^acc_/);
    expect(r.stdout).not.toMatch(/token"/i);
  });

  it("on a corrupt pool prints one line naming the file and the backup, and changes nothing", async () => {
    await using homes = await tempHomes();
    await twoAccounts(homes);
    const file = path.join(homes.poolHome, "pool.json");
    await fs.writeFile(file, '{"version": 1, "accounts": [ {"id": ');
    const before = await fs.readFile(file);
    for (const args of [
      ["list"],
      ["list", "--json"],
      ["import"],
      ["switch", "1"],
      ["remove", "1", "--yes"],
    ]) {
      const r = await cli(homes, args);
      expect(r.code).toBe(65);
      expect(r.stdout).toBe("");
      const errLines = r.stderr.trimEnd().split("\n");
      expect(errLines).toHaveLength(1);
      expect(errLines[0]).toContain(file);
      expect(errLines[0]).toContain(`${file}.bak`);
      expect(await fs.readFile(file)).toEqual(before);
    }
  });
});

describe("switch", () => {
  it("adopts newer tokens codex wrote, then writes the chosen account keeping unknown keys", async () => {
    await using homes = await tempHomes();
    const { bob } = await twoAccounts(homes);
    // codex refreshed alice's tokens itself and wrote them, with a key we do not know.
    const rotated = tokens(ALICE.accountId, ALICE.email);
    const authFile = await writeAuth(
      homes,
      authJson(rotated, ALICE.accountId, "2026-03-01T00:00:00.000Z", {
        future_codex_key: { keep: ["me"] },
      }),
    );
    const r = await cli(homes, ["switch", "2"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`Switched to #2 bob@example.com; ${authFile} updated.\n`);
    expect(r.stderr).toContain("kept the newer tokens codex had written for #1 alice@…");

    const pool = await readPool(homes);
    expect(pool.accounts[0]!.tokens.refreshToken).toBe(rotated.refreshToken);
    expect(pool.accounts[0]!.tokens.lastRefreshAt).toBe("2026-03-01T00:00:00.000Z");
    expect(pool.defaultAccount).toBe(pool.accounts[1]!.id);
    expect(pool.accounts[1]!.lastUsedAt).not.toBeNull();

    const written = JSON.parse(await fs.readFile(authFile, "utf8")) as Record<string, unknown>;
    expect(written).toMatchObject({
      auth_mode: "chatgpt",
      OPENAI_API_KEY: null,
      tokens: {
        id_token: bob.idToken,
        access_token: bob.accessToken,
        refresh_token: bob.refreshToken,
        account_id: "acct-B",
      },
      future_codex_key: { keep: ["me"] },
    });
    expect(typeof written["last_refresh"]).toBe("string");
    expect(await mode(authFile)).toBe(0o600);

    const list = await cli(homes, ["list"]);
    expect(list.stdout.split("\n")[2]).toMatch(/^2\s+\*\s+bob@example\.com/);
  });

  it("does not adopt older tokens, and selects by email and by id", async () => {
    await using homes = await tempHomes();
    const { alice } = await twoAccounts(homes);
    const stale = tokens(ALICE.accountId, ALICE.email);
    await writeAuth(homes, authJson(stale, ALICE.accountId, "2020-01-01T00:00:00.000Z"));
    let r = await cli(homes, ["switch", "BOB@example.com"]);
    expect(r.code).toBe(0);
    expect(r.stderr).not.toContain("kept the newer tokens");
    expect((await readPool(homes)).accounts[0]!.tokens.refreshToken).toBe(alice.refreshToken);
    const id = (await readPool(homes)).accounts[0]!.id;
    r = await cli(homes, ["switch", id]);
    expect(r.stdout).toMatch(/^Switched to #1 alice@example\.com;/);
    r = await cli(homes, ["switch", "carol@example.com"]);
    expect(r.code).toBe(67);
    expect(r.stderr).toContain('no account matches "carol@example.com"');
  });

  it("stops on a corrupt auth.json without writing anything", async () => {
    await using homes = await tempHomes();
    await twoAccounts(homes);
    const authFile = path.join(homes.codexHome, "auth.json");
    await fs.writeFile(authFile, '{"tokens": {');
    const poolBefore = await fs.readFile(path.join(homes.poolHome, "pool.json"));
    const r = await cli(homes, ["switch", "2"]);
    expect(r.code).toBe(66);
    expect(r.stderr).toContain(`${authFile} is not valid JSON`);
    expect(await fs.readFile(authFile, "utf8")).toBe('{"tokens": {');
    expect(await fs.readFile(path.join(homes.poolHome, "pool.json"))).toEqual(poolBefore);
  });

  it("saves a copy of an auth.json whose account is not in the pool before replacing it", async () => {
    await using homes = await tempHomes();
    await twoAccounts(homes);
    const carol = tokens("acct-C", "carol@example.com");
    await writeAuth(homes, authJson(carol, "acct-C", "2026-01-01T00:00:00.000Z"));
    const r = await cli(homes, ["switch", "1"]);
    expect(r.code).toBe(0);
    const copy = /saved a copy to (\S+)/.exec(r.stderr)?.[1];
    expect(copy).toBeDefined();
    expect(r.stderr).toContain("held carol@example.com, which is not in the pool");
    const saved = JSON.parse(await fs.readFile(copy!, "utf8")) as {
      tokens: { refresh_token: string };
    };
    expect(saved.tokens.refresh_token).toBe(carol.refreshToken);
    expect(await mode(copy!)).toBe(0o600);
  });

  it("--best switches to what selection chooses, and says so when nothing is usable", async () => {
    await using homes = await tempHomes();
    await twoAccounts(homes);
    let r = await cli(homes, ["switch", "1", "--best"]);
    expect(r.code).toBe(2);
    await storeOf(homes).transact((pool) => {
      const since = new Date().toISOString();
      pool.accounts[0]!.state = { kind: "needs-login", reason: "revoked", since };
    });
    r = await cli(homes, ["switch", "--best"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Switched to #2 bob@example\.com;/);
    await storeOf(homes).transact((pool) => {
      const since = new Date().toISOString();
      pool.accounts[1]!.state = { kind: "needs-login", reason: "revoked", since };
    });
    r = await cli(homes, ["switch", "--best"]);
    expect(r.code).toBe(77);
    expect(r.stderr).toContain("--best found no account that is signed in");
  });

  it("refuses an account that needs a new sign-in", async () => {
    await using homes = await tempHomes();
    await twoAccounts(homes);
    await storeOf(homes).transact((pool) => {
      pool.accounts[1]!.state = {
        kind: "needs-login",
        reason: "revoked",
        since: new Date().toISOString(),
      };
    });
    const r = await cli(homes, ["switch", "2"]);
    expect(r.code).toBe(77);
    expect(r.stderr).toContain("#2 bob@… needs a new sign-in (revoked)");
  });
});

describe("remove", () => {
  it("refuses without a terminal and without --yes, and changes nothing", async () => {
    await using homes = await tempHomes();
    await twoAccounts(homes);
    const before = await fs.readFile(path.join(homes.poolHome, "pool.json"));
    const r = await cli(homes, ["remove", "1"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("not removing #1 alice@… without confirmation");
    expect(r.stderr).toContain("--yes");
    expect(await fs.readFile(path.join(homes.poolHome, "pool.json"))).toEqual(before);
  });

  it("with --yes removes it, moves the default on, and deletes its overlay home", async () => {
    await using homes = await tempHomes();
    await twoAccounts(homes);
    const [alice, bob] = (await readPool(homes)).accounts;
    const overlay = path.join(homes.poolHome, "homes", alice!.id);
    await fs.mkdir(overlay, { recursive: true });
    await fs.writeFile(path.join(overlay, "auth.json"), "{}");
    let r = await cli(homes, ["remove", "alice@example.com", "--yes"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("Removed #1 alice@example.com. The default is now #1 bob@example.com.\n");
    let pool = await readPool(homes);
    expect(pool.accounts.map((a) => a.id)).toEqual([bob!.id]);
    expect(pool.defaultAccount).toBe(bob!.id);
    await expect(fs.stat(overlay)).rejects.toMatchObject({ code: "ENOENT" });
    expect(await mode(path.join(homes.poolHome, "pool.json"))).toBe(0o600);

    r = await cli(homes, ["rm", "1", "-y"]);
    expect(r.stdout).toBe("Removed #1 bob@example.com.\n");
    pool = await readPool(homes);
    expect(pool).toMatchObject({ accounts: [], defaultAccount: null });
  });

  // util-linux `script` gives the CLI a real pseudo-terminal; the answer is typed into it.
  it.skipIf(!HAS_SCRIPT)("asks on a terminal and removes only on yes", async () => {
    await using homes = await tempHomes();
    await twoAccounts(homes);
    const run = (answer: string) =>
      new Promise<string>((resolve, reject) => {
        const cmd = `'${process.execPath}' '${CLI}' remove 2`;
        const child = spawn("script", ["-qfec", cmd, "/dev/null"], { env: homes.env });
        let out = "";
        let answered = false;
        // If the CLI fails before reading, the pty is gone: the assertions below say so.
        child.stdin.on("error", () => undefined);
        child.stdout.setEncoding("utf8").on("data", (d: string) => {
          out += d;
          if (!answered && out.includes("[y/N]")) {
            answered = true;
            child.stdin.write(`${answer}\n`);
          }
        });
        child.on("error", reject);
        child.on("exit", () => resolve(out));
      });
    let out = await run("n");
    expect(out).toContain("Remove #2 bob@example.com? [y/N]");
    expect(out).toContain("Nothing removed.");
    expect((await readPool(homes)).accounts).toHaveLength(2);
    out = await run("y");
    expect(out).toContain("Removed #2 bob@example.com.");
    expect((await readPool(homes)).accounts).toHaveLength(1);
  });
});
