/**
 * `codex-pool run -- exec …` with the real codex against the simulator: the usage limit on one
 * account moves the run to the next, with the original task in its history; what went wrong
 * beside the run (a file in an overlay home that lost to a newer one) is said after it and in
 * `--json`.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";
import { RELAUNCH_MODE } from "../helpers/codex-bin.js";
import { fixture, haveCodex } from "./e2e-helpers.js";

const CONTINUE = "The previous turn was interrupted by a usage limit";

describe.skipIf(!haveCodex)("supervised exec (real codex, simulator)", () => {
  it("relaunch: A 429s on the first request: the run ends served by B, exit 0", async () => {
    await using fx = await fixture([
      { accountId: "acct-A", email: "alice@example.com", turns: { limitAfter: 0 } },
      { accountId: "acct-B", email: "bob@example.com" },
    ]);
    const r = await runCli(["run", "--", "exec", "--skip-git-repo-check", "write the tests"], {
      env: { ...fx.env, ...RELAUNCH_MODE },
      cwd: fx.project,
      timeoutMs: 90_000,
    });
    expect(r.code, r.stderr).toBe(0);
    const turns = fx.sim.requests().filter((q) => q.kind === "turn");
    expect(turns[0]).toMatchObject({ accountId: "acct-A", status: 429 });
    const onB = turns.filter((q) => q.accountId === "acct-B");
    expect(onB.length).toBeGreaterThan(0);
    expect(onB[0]?.status).toBe(200);
    expect(onB[0]?.userTexts?.[0]).toBe("write the tests");
    expect(onB[0]?.userTexts?.some((t) => t.startsWith(CONTINUE))).toBe(true);
    expect(r.stdout).toContain("from account acct-B");
    // One attribution line per run; the last names B.
    const lines = r.stderr.split("\n").filter((l) => l.includes("run served by"));
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(
      /served by #2 bob@…, after #1 alice@… \(usage limit reached\); exit 0/,
    );
    // O10: the switch line is out before the next codex starts writing (its banner comes after).
    const moved = r.stderr.indexOf("codex-pool: session ");
    const banners = [...r.stderr.matchAll(/OpenAI Codex v/g)].map((m) => m.index);
    expect(moved).toBeGreaterThan(-1);
    expect(banners).toHaveLength(2);
    expect(moved).toBeLessThan(banners[1] ?? -1);
    expect(moved).toBeGreaterThan(banners[0] ?? Infinity);
    // One check of B (a prewarm's, reused by the switch), never two.
    const usageOfB = fx.sim
      .requests()
      .filter((q) => q.kind === "usage" && q.accountId === "acct-B");
    expect(usageOfB).toHaveLength(1);
    expect(fx.sim.strayRequests()).toEqual([]);
    const pool = await fx.readPool();
    const a = pool.accounts.find((x) => x.id === fx.ids["acct-A"]);
    expect(a?.quota?.limitReached).toBe(true);
    expect(pool.sessions).toEqual([]);
  });

  it("--json stays valid JSONL and ends with an attribution line tools can read", async () => {
    await using fx = await fixture([
      { accountId: "acct-A", email: "alice@example.com", turns: { limitAfter: 0 } },
      { accountId: "acct-B", email: "bob@example.com" },
    ]);
    const r = await runCli(["run", "--", "exec", "--json", "--skip-git-repo-check", "task"], {
      env: fx.env,
      cwd: fx.project,
      timeoutMs: 90_000,
    });
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split("\n");
    const parsed = lines.map((l) => JSON.parse(l) as { type: string });
    const attribution = parsed.filter((p) => p.type === "codex_pool.attribution");
    expect(attribution.at(-1)).toMatchObject({
      account: "#2 bob@…",
      switched_from: "#1 alice@…",
      reason: "usage_limit",
      exit_code: 0,
      warnings: [],
    });
  });

  it("a file left in an overlay home that loses to a newer one is reported, not dropped silently", async () => {
    await using fx = await fixture([{ accountId: "acct-A", email: "alice@example.com" }]);
    // An earlier codex wrote a memo file into A's overlay (not through a link); the user's real
    // home has a newer one since. The newer one is kept, and the user is told the other went.
    const home = path.join(fx.poolHome, "homes", fx.ids["acct-A"]!);
    await fs.mkdir(home, { recursive: true, mode: 0o700 });
    await fs.chmod(path.dirname(home), 0o700);
    await fs.writeFile(path.join(home, "memo.md"), "older notes\n");
    const past = new Date(Date.now() - 3600_000);
    await fs.utimes(path.join(home, "memo.md"), past, past);
    await fs.writeFile(path.join(fx.codexHome, "memo.md"), "newer notes\n");
    const r = await runCli(["run", "--", "exec", "--json", "--skip-git-repo-check", "task"], {
      env: { ...fx.env, ...RELAUNCH_MODE }, // overlay homes are relaunch's
      cwd: fx.project,
      timeoutMs: 90_000,
    });
    expect(r.code, r.stderr).toBe(0);
    const said = `kept the newer copy of memo.md in ${fx.codexHome}; the older copy codex had written for #1 alice@… was dropped`;
    expect(r.stderr).toContain(`codex-pool: ${said}\n`);
    const parsed = r.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { type: string; warnings?: string[] });
    expect(parsed.find((p) => p.type === "codex_pool.attribution")?.warnings).toEqual([said]);
    expect(await fs.readFile(path.join(fx.codexHome, "memo.md"), "utf8")).toBe("newer notes\n");
    expect((await fs.lstat(path.join(home, "memo.md"))).isSymbolicLink()).toBe(true);
  });

  it("both accounts out with --no-wait: exit 75 naming the reset time", async () => {
    const resetsAt = Math.floor(Date.now() / 1000) + 3600;
    await using fx = await fixture([
      { accountId: "acct-A", email: "alice@example.com", turns: { limitAfter: 0, resetsAt } },
      {
        accountId: "acct-B",
        email: "bob@example.com",
        usage: { primaryUsedPercent: 100, primaryResetAt: resetsAt + 600 },
      },
    ]);
    const r = await runCli(["run", "--no-wait", "--", "exec", "--skip-git-repo-check", "task"], {
      env: fx.env,
      cwd: fx.project,
      timeoutMs: 90_000,
    });
    expect(r.code, r.stderr).toBe(75);
    expect(r.stderr).toMatch(/every account is out/);
    expect(r.stderr).toContain(new Date(resetsAt * 1000).toISOString());
  });
});
