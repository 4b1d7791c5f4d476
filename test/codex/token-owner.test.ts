/**
 * The one rule for whose tokens an auth.json holds (src/codex/auth-file.ts tokenOwner): the file's
 * `tokens.account_id` (the workspace codex serves, sent as `chatgpt-account-id`) before the JWT
 * claim (the login's default workspace). After a workspace switch the two differ; adopting what a
 * child wrote, `import`, `switch` and `doctor` all attribute the tokens to the same account.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { adoptTokensFromHome } from "../../src/codex/adopt.js";
import { tokenOwner, tokensOf, type AuthFile } from "../../src/codex/auth-file.js";
import { poolPaths } from "../../src/platform/paths.js";
import { upsertAccount } from "../../src/pool/accounts.js";
import { FilePoolStore } from "../../src/pool/file-store.js";
import { runCli } from "../helpers/cli.js";
import { authJson, fixtureTokens } from "../helpers/jwt.js";
import { tempDir, tempHomes } from "../helpers/tmp.js";

/** A login whose default workspace (the JWT claim) is ws-personal, serving ws-team. */
const tokens = fixtureTokens({ accountId: "ws-personal", email: "alice@example.com" });
const switched = authJson(tokens, "ws-team", "2026-06-01T12:00:00.000Z") as AuthFile;

describe("whose tokens these are", () => {
  it("the file's account_id first, the JWT claim when the file has none", () => {
    const inFile = tokensOf(switched);
    expect(inFile && tokenOwner(inFile)).toEqual({
      accountId: "ws-team",
      email: "alice@example.com",
      plan: "plus",
    });
    const bare = { ...switched, tokens: { ...switched.tokens, account_id: null } } as AuthFile;
    const older = tokensOf(bare);
    expect(older && tokenOwner(older).accountId).toBe("ws-personal");
  });

  it("adopting what a child wrote files the tokens under the workspace it served", async () => {
    await using dir = await tempDir();
    const store = new FilePoolStore({
      paths: poolPaths(dir.join("pool")),
      lockWaitMs: 5000,
      lockStaleMs: 30_000,
    });
    const older = fixtureTokens({ accountId: "ws-personal", email: "alice@example.com" });
    const ids = await store.transact((pool) => {
      const now = new Date("2026-06-01T11:00:00Z");
      const base = {
        email: "alice@example.com",
        plan: "plus",
        tokens: {
          accessToken: older.accessToken,
          refreshToken: older.refreshToken,
          idToken: older.idToken,
          accessTokenExpiresAt: null,
          lastRefreshAt: now.toISOString(),
        },
      };
      const team = upsertAccount(pool, { ...base, accountId: "ws-team" }, now).account.id;
      const personal = upsertAccount(pool, { ...base, accountId: "ws-personal" }, now).account.id;
      return { team, personal };
    });
    const home = dir.join("home");
    await fs.mkdir(home, { recursive: true });
    await fs.writeFile(path.join(home, "auth.json"), JSON.stringify(switched), { mode: 0o600 });
    const pool = await store.read();
    const team = pool.accounts.find((a) => a.id === ids.team)!;
    const personal = pool.accounts.find((a) => a.id === ids.personal)!;
    expect(await adoptTokensFromHome({ store, home, account: personal })).toEqual({
      adopted: false,
      reason: "other-account",
    });
    expect(await adoptTokensFromHome({ store, home, account: team })).toMatchObject({
      adopted: true,
    });
    const after = await store.read();
    expect(after.accounts.find((a) => a.id === ids.team)?.tokens.refreshToken).toBe(
      tokens.refreshToken,
    );
    expect(after.accounts.find((a) => a.id === ids.personal)?.tokens.refreshToken).toBe(
      older.refreshToken,
    );
  });

  it("import files them the same way", async () => {
    await using homes = await tempHomes();
    const file = path.join(homes.path, "auth.json");
    await fs.writeFile(file, JSON.stringify(switched), { mode: 0o600 });
    const r = await runCli(["import", "--auth-file", file], { env: homes.env });
    expect(r.code, r.stderr).toBe(0);
    const pool = await new FilePoolStore({
      paths: poolPaths(homes.poolHome),
      lockWaitMs: 5000,
      lockStaleMs: 30_000,
    }).read();
    expect(pool.accounts.map((a) => a.accountId)).toEqual(["ws-team"]);
  });
});
