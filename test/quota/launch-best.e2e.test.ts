/**
 * The best account at launch, end to end with the real codex: A was checked a moment ago and has
 * 20 % left; B was never checked and its access token has expired, but it has 90 % left. Before
 * choosing, `run` checks B (refreshing its token for the check), so the run is served by B.
 * And a pool of real-service shapes: the spend-capped seat is never chosen.
 */
import { describe, expect, it } from "vitest";
import { tokenExpiry } from "../../src/auth/jwt.js";
import { makeWindow } from "../../src/quota/windows.js";
import { runCli } from "../helpers/cli.js";
import { LIVE_EXEC } from "../helpers/codex-bin.js";
import { fixture, haveCodex } from "../supervisor/e2e-helpers.js";

describe.skipIf(!haveCodex)("the best account at launch (real codex, simulator)", () => {
  it("A (20 % left, checked) and B (90 % left, token expired, never checked): served by B", async () => {
    await using fx = await fixture([
      { accountId: "acct-A", email: "alice@example.com", usage: { primaryUsedPercent: 80 } },
      { accountId: "acct-B", email: "bob@example.com", usage: { primaryUsedPercent: 10 } },
    ]);
    const expired = fx.sim.mintTokens("acct-B", { ttlSeconds: -60 });
    await fx.store.transact((pool) => {
      const a = pool.accounts.find((x) => x.id === fx.ids["acct-A"])!;
      a.quota = {
        observedAt: new Date().toISOString(),
        source: "usage-api",
        plan: "plus",
        windows: [makeWindow(300, 80, new Date(Date.now() + 3 * 3600_000))],
        limitReached: false,
      };
      const b = pool.accounts.find((x) => x.id === fx.ids["acct-B"])!;
      b.quota = null;
      b.tokens = {
        accessToken: expired.accessToken,
        refreshToken: expired.refreshToken,
        idToken: expired.idToken,
        accessTokenExpiresAt: tokenExpiry(expired.accessToken)?.toISOString() ?? null,
        lastRefreshAt: new Date(Date.now() - 3600_000).toISOString(),
      };
    });
    const refreshesBefore = fx.sim.refreshCount("acct-B");

    const r = await runCli(["run", "--", "exec", "--skip-git-repo-check", "say hi"], {
      env: fx.env,
      cwd: fx.project,
      timeoutMs: 90_000,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("from account acct-B");
    expect(r.stderr).toMatch(/run served by #2 bob@…; exit 0/);
    const turns = fx.sim.requests().filter((q) => q.kind === "turn");
    expect(turns.map((t) => t.accountId)).toEqual(["acct-B"]);
    // B was checked (after one refresh of its expired token); A's fresh check was trusted.
    const usage = fx.sim.requests().filter((q) => q.kind === "usage");
    expect(usage.map((q) => [q.accountId, q.status])).toEqual([["acct-B", 200]]);
    expect(fx.sim.refreshCount("acct-B")).toBe(refreshesBefore + 1);
    const pool = await fx.readPool();
    const b = pool.accounts.find((x) => x.id === fx.ids["acct-B"]);
    expect(b?.quota?.windows[0]).toMatchObject({ kind: "5h", usedPercent: 10 });
    expect(b?.tokens.refreshToken).not.toBe(expired.refreshToken);
    expect(fx.sim.strayRequests()).toEqual([]);
  });

  it("a pool of real-service shapes: the spend-capped seat is never chosen; side limits never block", async () => {
    const capped = {
      accountId: "acct-S",
      email: "spend@example.com",
      plan: "business",
      usage: {
        spendControl: {
          reached: true,
          limit: "700",
          used: "1811.96",
          remaining: "0",
          usedPercent: 259,
          resetAfterSeconds: 9 * 86_400,
        },
      },
    };
    const spark = {
      accountId: "acct-M",
      email: "models@example.com",
      plan: "pro",
      usage: {
        windows: [{ seconds: 604_740, usedPercent: 40, resetAfterSeconds: 3 * 86_400 }],
        modelLimits: [
          {
            limitName: "GPT-5.3-Codex-Spark",
            meteredFeature: "codex_bengalfox",
            windows: [{ seconds: 18_000, usedPercent: 100, resetAfterSeconds: 3600 }],
          },
        ],
        codeReview: [{ seconds: 604_800, usedPercent: 100 }],
      },
    };
    await using fx = await fixture([capped, spark]);
    const r = await runCli(["run", "--", "exec", "--skip-git-repo-check", "say hi"], {
      env: fx.env,
      cwd: fx.project,
      timeoutMs: 90_000,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("from account acct-M");
    const turns = fx.sim.requests().filter((q) => q.kind === "turn");
    expect(turns.map((t) => t.accountId)).toEqual(["acct-M"]);
    const pool = await fx.readPool();
    const s = pool.accounts.find((x) => x.id === fx.ids["acct-S"]);
    expect(s?.quota?.allowances?.[0]).toMatchObject({ kind: "spend-cap", reached: true });
    // What codex said of the turn (the weekly window only, the missing secondary as null: in its
    // rollout when relaunching, in its rate-limit notification when live) is what the pool now
    // holds for M.
    const m = pool.accounts.find((x) => x.id === fx.ids["acct-M"]);
    expect(m?.quota?.source).toBe(LIVE_EXEC ? "rate-limits-event" : "rollout");
    expect(m?.quota?.windows.map((w) => [w.kind, w.windowMinutes, w.usedPercent])).toEqual([
      ["weekly", 10079, 40],
    ]);
    expect(fx.sim.strayRequests()).toEqual([]);
  });
});
