/**
 * Two supervised runs at once on one pool: each records itself in the pool's live sessions (with a
 * heartbeat), and a session choosing an account avoids one that another live session runs on or
 * is moving to while another account is usable. So two runs that both leave A end on B and C.
 */
import { describe, expect, it } from "vitest";
import type { Pool } from "../../src/pool/schema.js";
import { eventually, fixture, haveCodex, startCli } from "./e2e-helpers.js";

const exec = (prompt: string, ...runOptions: string[]): string[] => [
  "run",
  ...runOptions,
  "--",
  "exec",
  "--skip-git-repo-check",
  prompt,
];

function sessionsOn(pool: Pool, account: string | undefined): Pool["sessions"] {
  return pool.sessions.filter((s) => s.account === account);
}

describe.skipIf(!haveCodex)("two supervised sessions at once (real codex, simulator)", () => {
  it("a second session avoids the account a live session runs on", async () => {
    await using fx = await fixture([
      { accountId: "acct-A", email: "alice@example.com", turns: { latencyMs: 2500 } },
      { accountId: "acct-B", email: "bob@example.com" },
    ]);
    const first = startCli(exec("task one"), fx.env, fx.project);
    await fx.sim.waitForRequest((r) => r.kind === "turn" && r.accountId === "acct-A", 30_000);
    const live = await fx.readPool();
    expect(sessionsOn(live, fx.ids["acct-A"]).map((s) => s.pid)).toEqual([first.child.pid]);

    const second = startCli(exec("task two"), fx.env, fx.project);
    const [one, two] = await Promise.all([first.done, second.done]);
    expect(one.code, first.stderr()).toBe(0);
    expect(two.code, second.stderr()).toBe(0);
    const turns = fx.sim.requests().filter((r) => r.kind === "turn");
    expect(turns.map((r) => [r.accountId, r.userTexts?.[0]])).toEqual([
      ["acct-A", "task one"],
      ["acct-B", "task two"],
    ]);
    expect(second.stderr()).toMatch(/run served by #2 bob@…; exit 0/);
    expect((await fx.readPool()).sessions).toEqual([]);
  }, 60_000);

  it("both sessions on A hit its limit and switch: they end on different accounts", async () => {
    await using fx = await fixture([
      {
        accountId: "acct-A",
        email: "alice@example.com",
        // Slow refusals keep both runs on A at the same time.
        turns: { limitAfter: 0, latencyMs: 2500 },
      },
      { accountId: "acct-B", email: "bob@example.com", turns: { latencyMs: 2500 } },
      { accountId: "acct-C", email: "carol@example.com", turns: { latencyMs: 2500 } },
    ]);
    const pin = ["--account", "alice@example.com"];
    const first = startCli(exec("task one", ...pin), fx.env, fx.project);
    await fx.sim.waitForRequest((r) => r.kind === "turn" && r.accountId === "acct-A", 30_000);
    const second = startCli(exec("task two", ...pin), fx.env, fx.project);
    await fx.sim.waitForRequest(
      (r) => r.kind === "turn" && r.accountId === "acct-A" && r.userTexts?.[0] === "task two",
      30_000,
    );
    // Both live, both on A, each with its own entry and heartbeat.
    const both = await fx.readPool();
    const onA = sessionsOn(both, fx.ids["acct-A"]);
    expect(onA.map((s) => s.pid).sort()).toEqual([first.child.pid, second.child.pid].sort());
    for (const s of onA) {
      expect(Date.now() - Date.parse(s.heartbeatAt)).toBeLessThan(30_000);
      expect(s.phase).toBe("running");
    }
    // While both are live after the switch, they sit on B and C.
    const moved = await eventually(
      "both sessions to leave A",
      async () => {
        const pool = await fx.readPool();
        const accounts = pool.sessions.map((s) => s.account);
        return accounts.length === 2 && !accounts.includes(fx.ids["acct-A"]!) ? pool : null;
      },
      30_000,
    );
    expect(moved.sessions.map((s) => s.account).sort()).toEqual(
      [fx.ids["acct-B"], fx.ids["acct-C"]].sort(),
    );

    const [one, two] = await Promise.all([first.done, second.done]);
    expect(one.code, first.stderr()).toBe(0);
    expect(two.code, second.stderr()).toBe(0);
    const turns = fx.sim.requests().filter((r) => r.kind === "turn");
    expect(
      turns.filter((r) => r.accountId === "acct-A").map((r) => [r.status, r.userTexts?.[0]]),
    ).toEqual([
      [429, "task one"],
      [429, "task two"],
    ]);
    const served = (task: string) =>
      turns.filter((r) => r.status === 200 && r.userTexts?.[0] === task).map((r) => r.accountId);
    const servedOne = served("task one");
    const servedTwo = served("task two");
    expect(servedOne).toHaveLength(1);
    expect(servedTwo).toHaveLength(1);
    expect([...servedOne, ...servedTwo].sort()).toEqual(["acct-B", "acct-C"]);
    const label = { "acct-B": "#2 bob@…", "acct-C": "#3 carol@…" } as Record<string, string>;
    expect(first.stderr()).toContain(`run served by ${label[servedOne[0]!]}, after #1 alice@…`);
    expect(second.stderr()).toContain(`run served by ${label[servedTwo[0]!]}, after #1 alice@…`);
    expect((await fx.readPool()).sessions).toEqual([]);
    expect(fx.sim.strayRequests()).toEqual([]);
  }, 60_000);
});
