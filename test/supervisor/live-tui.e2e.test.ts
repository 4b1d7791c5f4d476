/**
 * The supervised TUI in live mode (docs/decisions.md decision 11), with the real codex under tmux
 * against the simulator: one codex TUI for the whole session, attached through codex-pool's relay
 * to an app-server; a usage limit or a preemptive switch hands the app-server the next account
 * between turns, and the continuation goes out as a turn.
 */
import { describe, expect, it, onTestFailed } from "vitest";
import { eventually, fixture, haveCodex, type Fixture } from "./e2e-helpers.js";
import { codexProcesses, refreshesByCodex } from "./live-helpers.js";
import { haveTmux, startPane, submitPrompt, type Pane } from "./tmux.js";

const CONTINUE = "The previous turn was interrupted by a usage limit";

function turnsOf(fx: Fixture) {
  return fx.sim.requests().filter((r) => r.kind === "turn");
}

function report(fx: Fixture, pane: Pane): void {
  onTestFailed(async () => {
    const t0 = fx.sim.requests()[0]?.at ?? 0;
    const log = fx.sim
      .requests()
      .map(
        (r) =>
          `  +${r.at - t0}ms ${r.method} ${r.path} ${r.kind} ${r.accountId} ${r.status} ${r.error ?? ""} ${JSON.stringify(r.userTexts ?? null)}`,
      );
    process.stderr.write(`simulator:\n${log.join("\n")}\npane:\n${await pane.capture()}\n`);
  });
}

describe.skipIf(!haveCodex || !haveTmux)("supervised TUI, live mode (real codex, tmux)", () => {
  it("limit hit: A answers 2 turns, the third completes on B with the whole history, one TUI", async () => {
    await using fx = await fixture([
      { accountId: "acct-A", email: "alice@example.com", turns: { limitAfter: 2 } },
      { accountId: "acct-B", email: "bob@example.com" },
    ]);
    await using pane = await startPane(fx.poolHome, ["run"], fx.env, fx.project);
    report(fx, pane);
    await pane.waitFor("Ask Codex");
    const { clients, appServers } = await codexProcesses(fx.poolHome);
    expect(clients).toHaveLength(1);
    expect(appServers).toHaveLength(1);
    const tui = clients[0]!.pid;
    const count = () => turnsOf(fx).length;
    await submitPrompt(pane, "first task", count);
    await pane.waitFor("mock reply #1");
    await submitPrompt(pane, "second task", count);
    await pane.waitFor("mock reply #2");
    await submitPrompt(pane, "third task", count);
    const onB = await eventually(
      "a turn on B",
      () => turnsOf(fx).find((r) => r.accountId === "acct-B" && r.status === 200),
      60_000,
    );
    expect(
      turnsOf(fx)
        .filter((r) => r.accountId === "acct-A")
        .map((r) => r.status),
    ).toEqual([200, 200, 429]);
    expect(onB.userTexts?.slice(0, 3)).toEqual(["first task", "second task", "third task"]);
    expect(onB.userTexts?.at(-1)).toMatch(new RegExp(`^${CONTINUE}`));
    await pane.waitFor("from account acct-B");
    // One TUI the whole time: the same process, its banner drawn once.
    const after = await codexProcesses(fx.poolHome);
    expect(after.clients.map((p) => p.pid)).toEqual([tui]);
    const screen = await pane.capture();
    expect(screen.match(/OpenAI Codex \(v/g)).toHaveLength(1);
    // The pool did every refresh; codex never held a refresh token to spend.
    expect(refreshesByCodex(fx.sim)).toEqual([]);
    const pool = await fx.readPool();
    expect(pool.sessions.map((s) => [s.account, s.mode])).toEqual([[fx.ids["acct-B"], "live"]]);
  }, 120_000);
});
