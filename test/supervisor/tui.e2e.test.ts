/**
 * The supervised TUI with the real codex under tmux, against the simulator: a usage limit moves
 * the session to the next account with the whole history and the continuation prompt; a
 * preemptive switch happens at the turn boundary, never mid-turn.
 */
import { describe, expect, it } from "vitest";
import { eventually, fixture, haveCodex } from "./e2e-helpers.js";
import { haveTmux, startPane, submitPrompt as prompt } from "./tmux.js";

const CONTINUE = "The previous turn was interrupted by a usage limit";

describe.skipIf(!haveCodex || !haveTmux)("supervised TUI (real codex, tmux, simulator)", () => {
  it("limit hit: A answers 2 turns, the third fails, the session goes on under B", async () => {
    await using fx = await fixture([
      { accountId: "acct-A", email: "alice@example.com", turns: { limitAfter: 2 } },
      { accountId: "acct-B", email: "bob@example.com" },
    ]);
    await using pane = await startPane(fx.poolHome, ["run"], fx.env, fx.project);
    await pane.waitFor("Ask Codex");
    const turns = () => fx.sim.requests().filter((r) => r.kind === "turn");
    const count = () => turns().length;
    await prompt(pane, "first task", count);
    await pane.waitFor("mock reply #1");
    await prompt(pane, "second task", count);
    await pane.waitFor("mock reply #2");
    await prompt(pane, "third task", count);
    const onB = await eventually(
      "a turn on B",
      () => turns().find((r) => r.accountId === "acct-B" && r.status === 200),
      60_000,
    );
    expect(
      turns()
        .filter((r) => r.accountId === "acct-A")
        .map((r) => r.status),
    ).toEqual([200, 200, 429]);
    expect(onB.userTexts?.slice(0, 3)).toEqual(["first task", "second task", "third task"]);
    expect(onB.userTexts?.at(-1)).toMatch(new RegExp(`^${CONTINUE}`));
    await pane.waitFor("from account acct-B");
    expect(fx.sim.strayRequests().filter((s) => !s.includes("raw.githubusercontent.com"))).toEqual(
      [],
    );
    const pool = await fx.readPool();
    expect(pool.sessions.map((s) => s.account)).toEqual([fx.ids["acct-B"]]);
  }, 120_000);

  it("preemptive: 97% used after turn 2 moves the session to B before turn 3, no 429", async () => {
    await using fx = await fixture([
      {
        accountId: "acct-A",
        email: "alice@example.com",
        turns: { usedPercentByTurn: [10, 97] },
      },
      { accountId: "acct-B", email: "bob@example.com" },
    ]);
    await using pane = await startPane(fx.poolHome, ["run"], fx.env, fx.project);
    await pane.waitFor("Ask Codex");
    const turns = () => fx.sim.requests().filter((r) => r.kind === "turn");
    const count = () => turns().length;
    await prompt(pane, "first task", count);
    await pane.waitFor("mock reply #1");
    await prompt(pane, "second task", count);
    await pane.waitFor("mock reply #2");
    // The switch happens at the boundary after turn 2: the pool records the session on B.
    await eventually(
      "the session to move to B",
      async () =>
        (await fx.readPool()).sessions.some(
          (s) => s.account === fx.ids["acct-B"] && s.phase === "running",
        ),
      60_000,
    );
    await pane.waitFor("Ask Codex");
    await prompt(pane, "third task", count);
    const onB = await eventually(
      "turn 3 on B",
      () => turns().find((r) => r.accountId === "acct-B"),
      60_000,
    );
    expect(onB.userTexts).toEqual(["first task", "second task", "third task"]);
    expect(turns().every((r) => r.status === 200)).toBe(true);
    expect(turns().filter((r) => r.accountId === "acct-A")).toHaveLength(2);
  }, 120_000);
});
