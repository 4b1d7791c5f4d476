/**
 * SIGTERM to a supervised run: the child ends, we exit 143, and nothing is left behind (no
 * process, no lock, no live-session entry).
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { processAlive } from "../../src/platform/process-alive.js";
import { eventually, fixture, haveCodex, startCli } from "./e2e-helpers.js";

function childrenOf(pid: number): number[] {
  try {
    return execFileSync("ps", ["-o", "pid=", "--ppid", String(pid)], { encoding: "utf8" })
      .split("\n")
      .map((s) => Number(s.trim()))
      .filter((n) => n > 0);
  } catch {
    return [];
  }
}

describe.skipIf(!haveCodex)("signals (real codex, simulator)", () => {
  it("SIGTERM mid-turn ends the child and exits 143, leaving no process and no lock", async () => {
    await using fx = await fixture([
      { accountId: "acct-A", email: "alice@example.com", turns: { hang: true } },
    ]);
    const run = startCli(
      ["run", "--", "exec", "--skip-git-repo-check", "long task"],
      fx.env,
      fx.project,
    );
    await eventually("the turn to reach the simulator", () =>
      fx.sim.requests().some((r) => r.kind === "turn"),
    );
    const pid = run.child.pid!;
    const kids = await eventually("the codex child", () => {
      const k = childrenOf(pid);
      return k.length > 0 ? k : null;
    });
    const live = await fx.readPool();
    expect(live.sessions.map((s) => s.pid)).toEqual([pid]);
    run.child.kill("SIGTERM");
    const end = await run.done;
    expect(end.code, run.stderr()).toBe(143);
    for (const k of kids) expect(processAlive(k)).toBe(false);
    await expect(fs.access(path.join(fx.poolHome, "pool.json.lock"))).rejects.toThrow();
    expect((await fx.readPool()).sessions).toEqual([]);
  });
});
