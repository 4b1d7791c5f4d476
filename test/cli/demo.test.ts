/**
 * `codex-pool demo` as a newcomer runs it: the real codex, supervised, against the simulator. It must
 * show the switch, say nothing alarming, and leave no file or process behind.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";
import { processesMentioning } from "../helpers/processes.js";
import { tempHomes } from "../helpers/tmp.js";

/** Command lines of live processes that mention `needle`. */
async function commandsMentioning(needle: string): Promise<string[]> {
  return (await processesMentioning(needle)).map((p) => `${p.pid}: ${p.argv.join(" ")}`);
}

describe("codex-pool demo", () => {
  it("shows a session moving live between accounts and cleans up after itself", async () => {
    await using homes = await tempHomes();
    const env = { ...homes.env, TERM: "dumb" };
    const r = await runCli(["demo"], { env, cwd: homes.path, timeoutMs: 90_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("$ codex-pool status");
    expect(r.stdout).toContain("$ codex-pool run --mode live --account 1 -- exec");
    expect(r.stdout).toContain("mock reply #1 from account acct-bob");
    // The demo's codex is the pinned one (0.171): the switch is live, one app-server throughout,
    // no codex start-up banner (each exec attaches to it).
    expect(r.stderr).toMatch(/session \S+ moved live from #1 alice@\S+ .* to #2 bob@/);
    expect(r.stderr).not.toContain("OpenAI Codex v");
    expect(r.stderr).not.toContain("switching by relaunching");
    expect(r.stderr).toMatch(/run served by #2 bob@\S+, after #1 alice@/);
    // After the run alice is out, bob is still fine.
    expect(r.stdout).toMatch(/alice@example\.com.*exhausted until/);
    // Nothing alarming of our own making: no stack trace, no unexpected error, no model-list 404s.
    expect(r.stderr).not.toMatch(/unexpected error|\n\s+at |codex_models_manager/);
    // The throwaway world is gone, and the user's own homes were never created.
    const cache = path.join(homes.path, ".cache", "codex-pool");
    const left = await fs.readdir(cache).catch(() => []);
    expect(left).toEqual([]);
    await expect(fs.stat(homes.poolHome)).rejects.toThrow();
    expect(await fs.readdir(homes.codexHome)).toEqual([]);
    expect(await commandsMentioning(path.join(homes.path, ".cache"))).toEqual([]);
  }, 120_000);

  it("--mode relaunch shows the old way: codex stopped and resumed under bob", async () => {
    await using homes = await tempHomes();
    const env = { ...homes.env, TERM: "dumb" };
    const r = await runCli(["demo", "--mode", "relaunch"], {
      env,
      cwd: homes.path,
      timeoutMs: 90_000,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("$ codex-pool run --mode relaunch --account 1 -- exec");
    expect(r.stdout).toContain("mock reply #1 from account acct-bob");
    expect(r.stderr).toMatch(/session \S+ moved from #1 alice@\S+ .* to #2 bob@/);
    // Two codex start-ups: alice's, then the resumed session under bob.
    expect(r.stderr.match(/OpenAI Codex v/g)).toHaveLength(2);
    expect(await commandsMentioning(path.join(homes.path, ".cache"))).toEqual([]);
  }, 120_000);
});
