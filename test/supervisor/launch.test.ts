/**
 * Tokens are never spent twice (src/supervisor/launch.ts, src/codex/adopt.ts): when the tokens a
 * child left in an account's overlay home cannot be taken back, a launch on that account fails
 * with one clear line, before anything refreshes it, and the file is left as it was. Against a
 * real pool file and overlay home; the refresher is a counting stand-in (the end-to-end proof
 * against the simulator's /oauth/token log is test/supervisor/tokens-doubt.e2e.test.ts).
 */
import fs from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { TokensInDoubtError } from "../../src/codex/adopt.js";
import { defaultSettings } from "../../src/platform/settings.js";
import { poolPaths } from "../../src/platform/paths.js";
import type { Account } from "../../src/pool/schema.js";
import { FilePoolStore } from "../../src/pool/file-store.js";
import { classifyArgs } from "../../src/codex/args.js";
import { RefreshTokenHeldError, refreshTokenHeld } from "../../src/pool/live-sessions.js";
import { launchCodex, type LaunchDeps } from "../../src/supervisor/launch.js";
import { tempDir } from "../helpers/tmp.js";
import { clockAt } from "../helpers/virtual-clock.js";
import { accountWithId } from "../helpers/account-fixture.js";

const NOW = Date.parse("2026-06-01T12:00:00Z");

/** Its access token expired a minute ago. */
function account(id: string): Account {
  const fresh = accountWithId(id, NOW);
  const expiresAt = new Date(NOW - 60_000).toISOString();
  return {
    ...fresh,
    tokens: { ...fresh.tokens, accessToken: "at-expired", accessTokenExpiresAt: expiresAt },
  };
}

describe("a launch on an account whose tokens could not be taken back", () => {
  it.each([
    ["damaged", "{ not json"],
    ["unreadable", null],
  ])("(%s overlay auth.json) fails with a clear line and refreshes nothing", async (_, text) => {
    await using dir = await tempDir();
    const store = new FilePoolStore({
      paths: poolPaths(dir.join("pool")),
      lockWaitMs: 5000,
      lockStaleMs: 30_000,
    });
    const row = account("acc_aaaaaa");
    await store.transact((pool) => {
      pool.accounts.push(row);
    });
    const homesDir = dir.join("pool", "homes");
    const home = path.join(homesDir, row.id);
    await fs.mkdir(home, { recursive: true });
    const authFile = path.join(home, "auth.json");
    // A directory where the file should be cannot be read, whoever we run as.
    if (text === null) await fs.mkdir(authFile);
    else await fs.writeFile(authFile, text, { mode: 0o600 });
    let refreshes = 0;
    const deps: LaunchDeps = {
      store,
      settings: defaultSettings({ codexHome: dir.join("codex") }),
      env: {},
      clock: clockAt(() => NOW),
      homesDir,
      binary: { path: dir.join("no-codex-here") } as LaunchDeps["binary"],
      args: classifyArgs([]),
      cwd: dir.path,
      ownedElsewhere: () => false,
      tokensFresh: () => false,
      ensureFresh: () => {
        refreshes += 1;
        return Promise.reject(new Error("must not be called"));
      },
      pdeathWrapper: null,
    };
    const launch = launchCodex(deps, { id: row.id, label: row.email }, null);
    await expect(launch).rejects.toBeInstanceOf(TokensInDoubtError);
    await expect(launch).rejects.toThrow(
      new RegExp(
        `could not take back the tokens codex left for #1 aaaaaa@… in ${authFile}.*neither refreshes nor overwrites them`,
      ),
    );
    expect(refreshes).toBe(0);
    // The file is left as it was: it may hold the only live refresh token.
    if (text !== null) expect(await fs.readFile(authFile, "utf8")).toBe(text);
    else expect((await fs.stat(authFile)).isDirectory()).toBe(true);
    const after = (await store.read()).accounts[0];
    expect(after?.tokens.refreshToken).toBe(row.tokens.refreshToken);
  });
});

describe("a launch whose refresh is refused because a running codex elsewhere holds the token", () => {
  it("goes on with the tokens as they are: that codex refreshes them", async () => {
    await using dir = await tempDir();
    const store = new FilePoolStore({
      paths: poolPaths(dir.join("pool")),
      lockWaitMs: 5000,
      lockStaleMs: 30_000,
    });
    const row = account("acc_aaaaaa");
    await store.transact((pool) => {
      pool.accounts.push(row);
    });
    const homesDir = dir.join("pool", "homes");
    let refreshes = 0;
    const deps: LaunchDeps = {
      store,
      settings: defaultSettings({ codexHome: dir.join("codex") }),
      env: {},
      clock: clockAt(() => NOW),
      homesDir,
      binary: { path: dir.join("no-codex-here") } as LaunchDeps["binary"],
      args: classifyArgs([]),
      cwd: dir.path,
      // Free when the pool was read; held by the time the coordinator looked.
      ownedElsewhere: () => false,
      tokensFresh: () => false,
      ensureFresh: () => {
        refreshes += 1;
        return Promise.reject(refreshTokenHeld("#1 aaaaaa@…", []));
      },
      pdeathWrapper: null,
    };
    await fs.mkdir(dir.join("codex"), { recursive: true });
    const launch = launchCodex(deps, { id: row.id, label: row.email }, null);
    // It got as far as starting codex (there is none here), with the pool's tokens in its home.
    await expect(launch).rejects.not.toBeInstanceOf(RefreshTokenHeldError);
    expect(refreshes).toBe(1);
    const auth = JSON.parse(
      await fs.readFile(path.join(homesDir, row.id, "auth.json"), "utf8"),
    ) as { tokens: { refresh_token: string } };
    expect(auth.tokens.refresh_token).toBe(row.tokens.refreshToken);
  });
});
