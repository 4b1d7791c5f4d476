/**
 * `status --refresh` end to end on a pool of accounts answering in every §3.1 shape (the simulator
 * taught them, docs/chatgpt-backend.md §3.1, §3.3): each account is shown as what it is, the
 * columns follow the windows the pool has, the spend-capped seat is out until its cap resets and
 * never chosen, and per-model and code-review limits never block.
 */
import { describe, expect, it } from "vitest";
import type { SimAccountSpec } from "../../src/simulator/index.js";
import { runCli } from "../helpers/cli.js";
import { tempHomes } from "../helpers/tmp.js";
import { makeStore, seedPool, withSim } from "./support.js";

const DAY = 86_400;

interface JsonWindow {
  kind: string;
  label: string;
  windowMinutes: number | null;
  usedPercent: number;
  leftPercent: number;
  resetsAt: string | null;
}
interface JsonAccount {
  email: string;
  plan: string | null;
  state: string;
  stateDetail: string | null;
  blockedBy: string | null;
  usableAt: string | null;
  exhaustedUntil: string | null;
  bottleneck: string | null;
  chosen: boolean;
  windows: JsonWindow[];
  allowances: {
    kind: string;
    reached: boolean;
    usedPercent: number | null;
    leftPercent: number | null;
    resetsAt: string | null;
  }[];
  sideLimits: { scope: string; name: string | null; limitReached: boolean; blocks: boolean }[];
  notIncluded: { model: string | null }[];
  error: { kind: string; message: string; retryAt: string | null } | null;
}

const SHAPES: SimAccountSpec[] = [
  {
    accountId: "acct-P",
    email: "pro@example.com",
    plan: "pro",
    usage: {
      windows: [
        { seconds: 17_940, usedPercent: 42.5, resetAfterSeconds: 7200 },
        { seconds: 604_740, usedPercent: 10, resetAfterSeconds: 3 * DAY },
      ],
    },
  },
  {
    accountId: "acct-W",
    email: "weekly@example.com",
    plan: "prolite",
    usage: { windows: [{ seconds: 604_740, usedPercent: 40, resetAfterSeconds: 4 * DAY }] },
  },
  {
    accountId: "acct-F",
    email: "free@example.com",
    plan: "free",
    usage: { windows: [{ seconds: 2_592_000, usedPercent: 20, resetAfterSeconds: 12 * DAY }] },
  },
  {
    accountId: "acct-R",
    email: "reached@example.com",
    usage: {
      windows: [
        { seconds: 17_940, usedPercent: 0 },
        { seconds: 604_740, usedPercent: 100, resetAfterSeconds: 2 * DAY },
      ],
      allowed: true,
      limitReached: true,
    },
  },
  {
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
        resetAfterSeconds: 9 * DAY,
      },
    },
  },
  {
    accountId: "acct-E",
    email: "enterprise@example.com",
    plan: "enterprise",
    usage: {
      windows: [],
      individualLimit: {
        limit: 100_000,
        used: "7761",
        remainingPercent: 92.239,
        resetAfterSeconds: 20 * DAY,
      },
    },
  },
  {
    accountId: "acct-M",
    email: "models@example.com",
    plan: "quorum",
    usage: {
      windows: [
        { seconds: 18_000, usedPercent: 30, resetAfterSeconds: 3600 },
        { seconds: 604_800, usedPercent: 5 },
      ],
      modelLimits: [
        {
          limitName: "GPT-5.3-Codex-Spark",
          meteredFeature: "codex_bengalfox",
          windows: [{ seconds: 18_000, usedPercent: 100, resetAfterSeconds: 3600 }],
        },
        { limitName: "GPT-6-Luna" },
      ],
      codeReview: [{ seconds: 604_800, usedPercent: 100 }],
    },
  },
  {
    accountId: "acct-N",
    email: "nocodex@example.com",
    plan: "free",
    usage: {
      status: 429,
      body: {
        error: { type: "usage_not_included", message: "Codex is not included in your plan." },
      },
    },
  },
  {
    accountId: "acct-T",
    email: "throttled@example.com",
    usage: {
      status: 429,
      body: {
        error: {
          code: "rate_limit_exceeded",
          message: "Rate limit reached. Please try again in 11.054s.",
        },
      },
    },
  },
  {
    accountId: "acct-X",
    email: "invalidated@example.com",
    usage: {
      status: 401,
      body: {
        error: {
          code: "token_invalidated",
          message: "Your authentication token has been invalidated.",
        },
      },
    },
  },
];

describe("status on a pool of every real answer shape", () => {
  it("shows each account as what it is, and chooses only among those that can run", async () => {
    await using homes = await tempHomes();
    await using sim = await withSim(SHAPES);
    const store = makeStore(homes.poolHome);
    await seedPool(
      store,
      sim,
      SHAPES.map((s) => ({ accountId: s.accountId })),
    );
    const env = {
      ...homes.env,
      TZ: "UTC",
      CODEX_POOL_BACKEND_URL: sim.httpBackendUrl,
      CODEX_POOL_AUTH_URL: sim.authUrl,
    };
    const started = Date.now();
    const r = await runCli(["status", "--json", "--refresh"], { env });
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as { accounts: JsonAccount[]; chosen: { email: string } };
    const by = (email: string): JsonAccount => doc.accounts.find((a) => a.email === email)!;
    const kinds = (a: JsonAccount): string[] =>
      a.windows.map((w) => `${w.kind}:${w.windowMinutes}`);
    const near = (iso: string | null, seconds: number): void => {
      expect(iso).not.toBeNull();
      expect(Math.abs(Date.parse(iso!) - (started + seconds * 1000))).toBeLessThan(60_000);
    };

    const pro = by("pro@example.com");
    expect([pro.state, kinds(pro), pro.windows[0]?.usedPercent]).toEqual([
      "ok",
      ["5h:299", "weekly:10079"],
      42.5,
    ]);
    expect(pro.windows[0]?.leftPercent).toBe(57.5);

    const weekly = by("weekly@example.com");
    expect([weekly.state, kinds(weekly), weekly.bottleneck]).toEqual([
      "ok",
      ["weekly:10079"],
      "weekly",
    ]);

    const free = by("free@example.com");
    expect([free.state, kinds(free), free.bottleneck]).toEqual(["ok", ["30d:43200"], "30d"]);
    near(free.windows[0]!.resetsAt, 12 * DAY);

    const reached = by("reached@example.com");
    expect([reached.state, reached.blockedBy]).toEqual(["exhausted", "weekly"]);
    near(reached.exhaustedUntil, 2 * DAY);

    const spend = by("spend@example.com");
    expect([spend.state, spend.blockedBy, spend.windows]).toEqual(["exhausted", "spend cap", []]);
    expect(spend.allowances).toMatchObject([
      { kind: "spend-cap", reached: true, usedPercent: 259, leftPercent: 0 },
    ]);
    near(spend.exhaustedUntil, 9 * DAY);

    const ent = by("enterprise@example.com");
    expect([ent.state, ent.windows, ent.bottleneck]).toEqual(["ok", [], "credit limit"]);
    expect(ent.allowances[0]).toMatchObject({ kind: "credit-limit", reached: false });
    expect(ent.allowances[0]?.leftPercent).toBeCloseTo(92.239, 3);
    near(ent.allowances[0]!.resetsAt, 20 * DAY);

    const models = by("models@example.com");
    expect([models.state, kinds(models)]).toEqual(["ok", ["5h:300", "weekly:10080"]]);
    expect(models.sideLimits).toMatchObject([
      { scope: "code-review", limitReached: true, blocks: false },
      { scope: "model", name: "GPT-5.3-Codex-Spark", limitReached: true, blocks: false },
      { scope: "model", name: "GPT-6-Luna", limitReached: false, blocks: false },
    ]);

    const none = by("nocodex@example.com");
    expect(none.state).toBe("not-included");
    expect(none.notIncluded).toMatchObject([
      { model: null, message: "Codex is not included in your plan." },
    ]);

    const throttled = by("throttled@example.com");
    expect(throttled.state).toBe("error");
    expect(throttled.error).toMatchObject({
      kind: "throttled",
      message: "throttled, retry in 12s",
    });
    near(throttled.error!.retryAt, 11);

    const dead = by("invalidated@example.com");
    expect([dead.state, dead.stateDetail]).toEqual(["needs-login", "token_invalidated"]);
    // A dead login is never refreshed: no refresh token was spent on it.
    expect(sim.refreshCount("acct-X")).toBe(0);

    // The most headroom: the enterprise seat's credits (92 % left, the long floor 5).
    expect(doc.chosen.email).toBe("enterprise@example.com");

    // The table: a column pair per window kind the pool has, allowances and model limits.
    const table = await runCli(["status"], { env });
    const lines = table.stdout.split("\n");
    expect(lines[0]).toMatch(
      /PLAN\s+5H LEFT\s+RESETS\s+WEEKLY LEFT\s+RESETS\s+30-DAY LEFT\s+RESETS\s+ALLOWANCE\s+MODEL LIMITS\s+STATE/,
    );
    const row = (email: string): string => lines.find((l) => l.includes(email)) ?? "";
    expect(row("spend@example.com")).toMatch(
      /spend cap reached \(\w{3} \d+ \d\d:\d\d\)◂.*spend cap reached until \w{3} \d+ \d\d:\d\d$/,
    );
    expect(row("models@example.com")).toMatch(/review weekly 0%, GPT-5\.3-Codex-Spark 5h 0%.*ok$/);
    expect(row("nocodex@example.com")).toMatch(/no Codex in plan$/);
    expect(row("enterprise@example.com")).toMatch(/^→.*credit limit 92%◂.*ok$/);
    // The throttle was respected: asking again right away probes nothing for T.
    const usageOfT = (): number =>
      sim.requests().filter((q) => q.kind === "usage" && q.accountId === "acct-T").length;
    expect(usageOfT()).toBe(1);
    // The plan without Codex is not asked again, until --refresh finds it included after all.
    const usageOfN = (): number =>
      sim.requests().filter((q) => q.kind === "usage" && q.accountId === "acct-N").length;
    expect(usageOfN()).toBe(1);
    sim.patchAccount("acct-N", { usage: { status: 200, body: undefined, primaryUsedPercent: 1 } });
    const again = await runCli(["status", "--json", "--refresh"], { env });
    const n = (JSON.parse(again.stdout) as { accounts: JsonAccount[] }).accounts.find(
      (a) => a.email === "nocodex@example.com",
    );
    expect([n?.state, n?.notIncluded]).toEqual(["ok", []]);
    expect(sim.strayRequests()).toEqual([]);
  });

  it("a pool of weekly-only plans shows no 5-hour column", async () => {
    await using homes = await tempHomes();
    const weekly = (id: string, used: number): SimAccountSpec => ({
      accountId: id,
      email: `${id}@example.com`,
      plan: "team",
      usage: { windows: [{ seconds: 604_740, usedPercent: used }] },
    });
    await using sim = await withSim([weekly("acct-1", 10), weekly("acct-2", 96)]);
    const store = makeStore(homes.poolHome);
    await seedPool(store, sim, [{ accountId: "acct-1" }, { accountId: "acct-2" }]);
    const env = {
      ...homes.env,
      CODEX_POOL_BACKEND_URL: sim.httpBackendUrl,
      CODEX_POOL_AUTH_URL: sim.authUrl,
    };
    const r = await runCli(["status"], { env });
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.split("\n");
    expect(lines[0]).toMatch(/PLAN\s+WEEKLY LEFT\s+RESETS\s+STATE$/);
    expect(lines[0]).not.toContain("5H");
    expect(lines.find((l) => l.includes("acct-2@"))).toMatch(/\s4%◂.*low$/);
  });
});
