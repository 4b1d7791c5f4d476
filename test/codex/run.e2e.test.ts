/**
 * `codex-pool run` end to end: the built CLI launches the REAL codex binary against the simulator,
 * in per-account overlay homes, with zero stray traffic.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";
import { CODEX_VERSION, RELAUNCH_MODE } from "../helpers/codex-bin.js";
import { haveCodex, poolWorld, sessionIdFrom, withSim } from "./e2e-helpers.js";

const ALICE = { accountId: "acct-A", email: "alice@example.com" };
const BOB = { accountId: "acct-B", email: "bob@example.com" };

describe.skipIf(!haveCodex)("codex-pool run with the real codex", () => {
  it("serves exec on the chosen account, then resumes the session on another with its history", async () => {
    await using sim = await withSim([ALICE, BOB]);
    await using world = await poolWorld(sim, ["acct-A", "acct-B"]);

    const first = await runCli(["run", "exec", "--skip-git-repo-check", "say hi"], {
      env: { ...world.env, ...RELAUNCH_MODE },
      cwd: world.project,
    });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain("from account acct-A");
    const session = sessionIdFrom(first.stderr + first.stdout);
    expect(session).toBeDefined();

    // The session file is in the REAL home, not in the overlay.
    const pool = await world.store.read();
    const overlayA = path.join(world.poolHome, "homes", pool.accounts[0]!.id);
    expect((await fs.lstat(path.join(overlayA, "sessions"))).isSymbolicLink()).toBe(true);
    const day = await fs.readdir(path.join(world.codexHome, "sessions"), { recursive: true });
    expect(day.some((f) => f.endsWith(`${session}.jsonl`))).toBe(true);
    // SQLite state lands in the real home (CODEX_SQLITE_HOME), not the overlay.
    const realEntries = await fs.readdir(world.codexHome);
    expect(realEntries).toContain("state_5.sqlite");
    for (const name of await fs.readdir(overlayA)) {
      if (name === "auth.json" || name === "packages") continue;
      expect((await fs.lstat(path.join(overlayA, name))).isSymbolicLink(), name).toBe(true);
    }
    expect((await fs.stat(path.join(overlayA, "auth.json"))).mode & 0o777).toBe(0o600);

    const second = await runCli(
      ["run", "--account", "2", "exec", "--skip-git-repo-check", "resume", session!, "and again"],
      { env: { ...world.env, ...RELAUNCH_MODE }, cwd: world.project },
    );
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toContain("from account acct-B");
    const turns = sim.requests().filter((r) => r.kind === "turn");
    expect(turns.map((t) => t.accountId)).toEqual(["acct-A", "acct-B"]);
    expect(turns[1]!.userTexts).toEqual(["say hi", "and again"]);
    expect(sim.strayRequests()).toEqual([]);
  });

  it("adopts the token codex refreshed during the run", async () => {
    await using sim = await withSim([ALICE]);
    await using world = await poolWorld(sim, ["acct-A"], { ttl: { "acct-A": -60 } });
    const before = (await world.store.read()).accounts[0]!.tokens;

    const result = await runCli(["run", "exec", "--skip-git-repo-check", "hello"], {
      env: { ...world.env, ...RELAUNCH_MODE },
      cwd: world.project,
    });
    expect(result.code, result.stderr).toBe(0);
    expect(sim.refreshCount("acct-A")).toBe(1);
    const after = (await world.store.read()).accounts[0]!.tokens;
    expect(after.refreshToken).not.toBe(before.refreshToken);
    expect(after.accessToken).not.toBe(before.accessToken);
    // The adopted refresh token is the live one: the pool can use it.
    const res = await fetch(`${sim.authUrl}/oauth/token`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        client_id: "app_EMoamEEZ73f0CkXaXp7hrann",
        grant_type: "refresh_token",
        refresh_token: after.refreshToken,
      }),
    });
    expect(res.status).toBe(200);
    expect(sim.strayRequests()).toEqual([]);
  });

  it("runs on the pool account even when the user's config says keyring", async () => {
    await using sim = await withSim([ALICE]);
    await using world = await poolWorld(sim, ["acct-A"], {
      codexConfig: (c) => `cli_auth_credentials_store = "keyring"\n${c}`,
    });
    const result = await runCli(["run", "exec", "--skip-git-repo-check", "hi"], {
      env: { ...world.env, CODEX_API_KEY: "sk-should-not-reach-codex" },
      cwd: world.project,
    });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain("from account acct-A");
    expect(sim.strayRequests()).toEqual([]);
  });

  it("passes --version through without touching the pool", async () => {
    await using sim = await withSim([ALICE]);
    await using world = await poolWorld(sim, []);
    const result = await runCli(["run", "--", "--version"], { env: world.env, cwd: world.project });
    expect(result.code, result.stderr).toBe(0);
    expect(CODEX_VERSION).not.toBeNull();
    expect(result.stdout.trim()).toBe(`codex-cli ${CODEX_VERSION}`);
  });

  it("says how to install codex when the configured binary is missing", async () => {
    await using sim = await withSim([ALICE]);
    await using world = await poolWorld(sim, ["acct-A"]);
    const result = await runCli(["run", "exec", "hi"], {
      env: { ...world.env, CODEX_POOL_CODEX_BIN: path.join(world.path, "nope", "codex") },
      cwd: world.project,
    });
    expect(result.code).toBe(69); // codex_unavailable
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
    expect(result.stderr).toMatch(/CODEX_POOL_CODEX_BIN .* no executable codex/);
    expect(result.stderr).toContain("npm install -g @openai/codex");
  });
});
