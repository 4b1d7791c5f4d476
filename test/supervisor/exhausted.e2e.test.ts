/**
 * The pool runs dry under a terminal (tmux): both accounts are out, A resets in a few seconds.
 * The supervisor counts down on one line, then resumes the session on A once A has reset, with the
 * original task in its history and the continuation prompt after it.
 */
import { describe, expect, it } from "vitest";
import { fixture, haveCodex } from "./e2e-helpers.js";
import { haveTmux, startPane, submitPrompt } from "./tmux.js";

const CONTINUE = "The previous turn was interrupted by a usage limit";
const COUNTDOWN = /every account is out; #1 alice@… resets at \d\d:\d\d, resuming in (\d+)s/;

describe.skipIf(!haveCodex || !haveTmux)("pool exhausted, waiting for a reset (tmux)", () => {
  it("exec: counts down to A's reset, then the run continues on A", async () => {
    await using fx = await fixture([
      { accountId: "acct-A", email: "alice@example.com", turns: { limitAfter: 0 } },
      {
        accountId: "acct-B",
        email: "bob@example.com",
        usage: { primaryUsedPercent: 100, primaryResetAt: Math.floor(Date.now() / 1000) + 3600 },
      },
    ]);
    await using pane = await startPane(
      fx.poolHome,
      ["run", "--", "exec", "--skip-git-repo-check", "write the tests"],
      fx.env,
      fx.project,
    );
    // A's limit lifts a few seconds after the turn it refuses. Codex checks the workspace right
    // before every turn (docs/codex-cli.md §0.2), so the reset is set then: counted from the turn,
    // not from how long codex took to start on a busy machine.
    await fx.sim.waitForRequest((r) => r.kind === "accounts-check" && r.accountId === "acct-A");
    const resetsAt = Math.floor(Date.now() / 1000) + 12;
    fx.sim.patchAccount("acct-A", { turns: { resetsAt } });
    const first = await pane.waitFor(COUNTDOWN, 30_000);
    const secondsAtFirst = Number(COUNTDOWN.exec(first)?.[1]);
    // The wait is real: nothing is launched while it counts down, and the line keeps counting.
    const later = await pane.waitFor((text) => {
      const s = COUNTDOWN.exec(text)?.[1];
      return s !== undefined && Number(s) < secondsAtFirst;
    });
    expect(later).not.toContain("resuming in 0s");
    // At its reset time the simulator refills A's window by itself, as the real service does.
    const resumed = await fx.sim.waitForRequest(
      (r) => r.kind === "turn" && r.accountId === "acct-A" && r.status === 200,
      30_000,
    );
    expect(resumed.at).toBeGreaterThanOrEqual(resetsAt * 1000);
    expect(resumed.userTexts?.[0]).toBe("write the tests");
    expect(resumed.userTexts?.at(-1)).toMatch(new RegExp(`^${CONTINUE}`));
    await pane.waitFor(/run served by #1 alice@…; exit 0/, 30_000);
    expect(await pane.exited()).toBe(0);

    const turns = fx.sim.requests().filter((r) => r.kind === "turn");
    expect(turns.map((r) => [r.accountId, r.status])).toEqual([
      ["acct-A", 429],
      ["acct-A", 200],
    ]);
    // B was checked (and found out) but never ran a turn; A was re-checked only after its reset.
    const usageA = fx.sim.requests().filter((r) => r.kind === "usage" && r.accountId === "acct-A");
    expect(usageA.filter((r) => r.at >= resetsAt * 1000).length).toBeGreaterThan(0);
    const pool = await fx.readPool();
    expect(pool.sessions).toEqual([]);
    const a = pool.accounts.find((x) => x.id === fx.ids["acct-A"]);
    expect(a?.quota?.limitReached).toBe(false);
    expect(fx.sim.strayRequests()).toEqual([]);
  }, 90_000);

  // A resumed TUI sometimes does not run its start-up prompt (docs/supervisor.md, "verified
  // continuation"): the supervisor sees no turn start and sends it once more.
  it(
    "TUI: the limit with every account out stops codex, counts down, resumes the session on A",
    { timeout: 90_000 },
    async () => {
      await using fx = await fixture([
        { accountId: "acct-A", email: "alice@example.com", turns: { limitAfter: 0 } },
        {
          accountId: "acct-B",
          email: "bob@example.com",
          usage: { primaryUsedPercent: 100, primaryResetAt: Math.floor(Date.now() / 1000) + 3600 },
        },
      ]);
      await using pane = await startPane(fx.poolHome, ["run"], fx.env, fx.project);
      await pane.waitFor("Ask Codex");
      const turns = () => fx.sim.requests().filter((r) => r.kind === "turn");
      // A's limit lifts a few seconds after the turn it refuses.
      const resetsAt = Math.floor(Date.now() / 1000) + 12;
      fx.sim.patchAccount("acct-A", { turns: { resetsAt } });
      await submitPrompt(pane, "first task", () => turns().length);
      await pane.waitFor(COUNTDOWN, 30_000);
      expect(
        turns()
          .filter((r) => r.accountId === "acct-A")
          .map((r) => r.status),
      ).toEqual([429]);
      // No patch: at its reset time the simulator refills A's window by itself. (Long enough for
      // a continuation codex did not take to be sent once more.)
      const resumed = await fx.sim.waitForRequest(
        (r) => r.kind === "turn" && r.accountId === "acct-A" && r.status === 200,
        60_000,
      );
      expect(resumed.at).toBeGreaterThanOrEqual(resetsAt * 1000);
      expect(resumed.userTexts?.[0]).toBe("first task");
      expect(resumed.userTexts?.at(-1)).toMatch(new RegExp(`^${CONTINUE}`));
      await pane.waitFor("mock reply #1 from account acct-A");
      expect(turns().filter((r) => r.accountId === "acct-B")).toEqual([]);
      const pool = await fx.readPool();
      expect(pool.sessions.map((s) => [s.account, s.phase])).toEqual([
        [fx.ids["acct-A"], "running"],
      ]);
    },
  );
});
