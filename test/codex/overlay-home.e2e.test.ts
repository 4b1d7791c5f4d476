/**
 * PROOF with the real codex binary that per-account overlay homes share everything but auth.json:
 * sessions, state databases, history and config edits land in the user's real Codex home, and a
 * session made under one account resumes under another.
 */
import { spawn } from "node:child_process";
import fs from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { classifyArgs } from "../../src/codex/args.js";
import { resolveCodexBinary } from "../../src/codex/binary.js";
import { finishLaunch, planLaunch } from "../../src/codex/launch.js";
import { findNewRollout } from "../../src/codex/rollout-find.js";
import { RolloutTail } from "../../src/codex/rollout-tail.js";
import { poolPaths } from "../../src/platform/paths.js";
import { loadSettings } from "../../src/platform/settings.js";
import { haveCodex, poolWorld, sessionIdFrom, withSim, type PoolWorld } from "./e2e-helpers.js";

async function launch(world: PoolWorld, index: number, argv: string[]) {
  const { settings } = loadSettings({ env: world.env });
  const pool = await world.store.read();
  const account = pool.accounts[index]!;
  const binary = resolveCodexBinary(world.env, settings);
  const plan = await planLaunch({
    store: world.store,
    settings,
    env: world.env,
    realHome: world.codexHome,
    homesDir: poolPaths(world.poolHome).homesDir,
    binary,
    account,
    args: classifyArgs(argv),
    now: new Date(),
  });
  const out = await new Promise<{ code: number | null; text: string }>((resolve) => {
    const child = spawn(binary.path, plan.argv, {
      env: plan.env,
      cwd: world.project,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let text = "";
    child.stdout.on("data", (d: Buffer) => (text += d.toString()));
    child.stderr.on("data", (d: Buffer) => (text += d.toString()));
    child.on("close", (code) => resolve({ code, text }));
  });
  const after = await finishLaunch({
    store: world.store,
    realHome: world.codexHome,
    home: plan.home,
    account,
  });
  return { ...out, home: plan.home, after };
}

describe.skipIf(!haveCodex)("overlay homes with the real codex", () => {
  it("shares sessions, state and config with the real home, and resumes across accounts", async () => {
    await using sim = await withSim([
      { accountId: "acct-A", email: "alice@example.com" },
      { accountId: "acct-B", email: "bob@example.com" },
    ]);
    await using world = await poolWorld(sim, ["acct-A", "acct-B"]);
    const since = Date.now();

    const first = await launch(world, 0, ["exec", "--skip-git-repo-check", "--trust", "first"]);
    expect(first.code, first.text).toBe(0);
    expect(first.text).toContain("from account acct-A");
    const id = sessionIdFrom(first.text)!;

    // The rollout is found in the REAL home's sessions, by launch time, cwd and originator.
    const found = await findNewRollout({
      sessionsDir: path.join(world.codexHome, "sessions"),
      since,
      cwd: world.project,
      originator: "codex_exec",
      timeoutMs: 5000,
    });
    expect(found?.meta.id).toBe(id);
    expect(found?.meta.creatorAccountId).toBe("acct-A");
    const events = await new RolloutTail(found!.file).read();
    expect(events.map((e) => e.type)).toEqual(
      expect.arrayContaining(["session_meta", "task_started", "task_complete"]),
    );

    // State databases and everything else are in the real home; the overlay holds only links.
    const real = await fs.readdir(world.codexHome);
    expect(real).toEqual(expect.arrayContaining(["state_5.sqlite", "sessions", "installation_id"]));
    for (const name of await fs.readdir(first.home)) {
      if (name === "auth.json") continue;
      expect((await fs.lstat(path.join(first.home, name))).isSymbolicLink(), name).toBe(true);
    }

    // A config edit made by codex itself (mcp add) lands in the real config.toml.
    const mcp = await launch(world, 0, ["mcp", "add", "probe-server", "--", "echo", "hi"]);
    expect(mcp.code, mcp.text).toBe(0);
    expect(await fs.readFile(path.join(world.codexHome, "config.toml"), "utf8")).toContain(
      "probe-server",
    );
    expect((await fs.lstat(path.join(mcp.home, "config.toml"))).isSymbolicLink()).toBe(true);

    // Account B (another overlay) resumes A's session with the whole history.
    const second = await launch(world, 1, [
      "exec",
      "--skip-git-repo-check",
      "resume",
      id,
      "second",
    ]);
    expect(second.code, second.text).toBe(0);
    expect(second.text).toContain("from account acct-B");
    const turns = sim.requests().filter((r) => r.kind === "turn");
    expect(turns.map((t) => t.accountId)).toEqual(["acct-A", "acct-B"]);
    expect(turns[1]!.userTexts).toEqual(["first", "second"]);
    expect(sim.strayRequests()).toEqual([]);
  });
});
