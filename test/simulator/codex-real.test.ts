/**
 * PROOF against the real codex 0.169 binary: exec, resume under another account with history
 * carried, and the usage-limit exit, all through the simulator with zero stray traffic.
 */
import fs from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { codexSetup, haveCodex, runCodex } from "./codex-run.js";
import { ALICE, BOB, withSim } from "./helpers.js";

describe.skipIf(!haveCodex)("the real codex binary against the simulator", () => {
  it("exec as acct-A, then resume as acct-B with the history carried", async () => {
    await using sim = await withSim([ALICE, BOB]);
    await using home = await codexSetup(sim, "acct-A");

    const first = await runCodex(
      ["exec", "--skip-git-repo-check", "say hi"],
      home.env,
      home.project,
    );
    expect(first.stderr + first.stdout).not.toMatch(/panicked/);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain("mock reply #1 from account acct-A");
    const turnsA = sim.requests().filter((r) => r.kind === "turn");
    expect(turnsA).toHaveLength(1);
    expect(turnsA[0]).toMatchObject({ accountId: "acct-A", status: 200, userTexts: ["say hi"] });
    const session = /session id: ([0-9a-f-]{36})/.exec(first.stderr + first.stdout)?.[1];
    expect(session).toBeDefined();

    await fs.writeFile(home.authFile, JSON.stringify(sim.authJsonFor("acct-B")), {
      mode: 0o600,
    });
    const second = await runCodex(
      ["exec", "--skip-git-repo-check", "resume", session!, "again"],
      home.env,
      home.project,
    );
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toContain("mock reply #1 from account acct-B");
    const turnB = sim
      .requests()
      .filter((r) => r.kind === "turn")
      .at(-1)!;
    expect(turnB.accountId).toBe("acct-B");
    expect(turnB.userTexts).toEqual(["say hi", "again"]);
    expect(sim.strayRequests()).toEqual([]);
  });

  it("a limitAfter:0 account makes codex exit 1 with the usage-limit message", async () => {
    await using sim = await withSim([{ ...ALICE, turns: { limitAfter: 0 } }]);
    await using home = await codexSetup(sim, "acct-A");
    const run = await runCodex(["exec", "--skip-git-repo-check", "say hi"], home.env, home.project);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("hit your usage limit");
    const turns = sim.requests().filter((r) => r.kind === "turn");
    // A usage-limit 429 is not retried (docs/codex-cli.md §2).
    expect(turns).toHaveLength(1);
    expect(turns[0]).toMatchObject({ status: 429, error: "usage_limit_reached" });
    expect(sim.strayRequests()).toEqual([]);
  });
});
