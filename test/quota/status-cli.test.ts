/** `codex-pool status` end to end: the built CLI as a real process against the simulator. */
import { describe, expect, it } from "vitest";
import type { QuotaSnapshot } from "../../src/pool/schema.js";
import { runCli } from "../helpers/cli.js";
import { tempHomes } from "../helpers/tmp.js";
import { makeStore, seedPool, withSim } from "./support.js";

const nowSec = (): number => Math.floor(Date.now() / 1000);
const hhmm = (epochS: number): string => new Date(epochS * 1000).toISOString().slice(11, 16);

function exhaustedInThePast(): QuotaSnapshot {
  return {
    observedAt: new Date(Date.now() - 10_000).toISOString(),
    source: "usage-api",
    plan: "plus",
    windows: [
      {
        kind: "5h",
        windowMinutes: 300,
        usedPercent: 100,
        resetsAt: new Date(Date.now() - 5_000).toISOString(),
      },
    ],
    limitReached: true,
  };
}

interface JsonAccount {
  index: number;
  id: string;
  email: string;
  plan: string;
  state: string;
  bottleneck: string | null;
  windows: {
    kind: string;
    windowMinutes: number;
    usedPercent: number;
    leftPercent: number;
    resetsAt: string;
  }[];
  observedAt: string;
  source: string;
  default: boolean;
  chosen: boolean;
  exhaustedUntil: string | null;
}

describe("codex-pool status", () => {
  it("shows ok, low, re-checked and exhausted accounts as a table and as JSON", async () => {
    await using homes = await tempHomes();
    const resetD = nowSec() + 2 * 3600 + 13 * 60 + 30;
    await using sim = await withSim([
      { accountId: "acct-A", email: "a@example.com", usage: { primaryUsedPercent: 12 } },
      { accountId: "acct-B", email: "b@example.com", usage: { primaryUsedPercent: 97 } },
      {
        accountId: "acct-C",
        email: "c@example.com",
        plan: "pro",
        usage: { primaryUsedPercent: 50, secondaryUsedPercent: 20 },
      },
      {
        accountId: "acct-D",
        email: "d@example.com",
        usage: { primaryUsedPercent: 100, primaryResetAt: resetD, secondaryUsedPercent: 30 },
      },
    ]);
    const store = makeStore(homes.poolHome);
    await seedPool(store, sim, [
      { accountId: "acct-A" },
      { accountId: "acct-B" },
      { accountId: "acct-C", quota: exhaustedInThePast() },
      { accountId: "acct-D" },
    ]);
    const env = {
      ...homes.env,
      TZ: "UTC",
      CODEX_POOL_BACKEND_URL: sim.httpBackendUrl,
      CODEX_POOL_AUTH_URL: sim.authUrl,
    };

    const table = await runCli(["status"], { env });
    expect(table.stderr).toBe("");
    expect(table.code).toBe(0);
    const lines = table.stdout.split("\n");
    const row = (email: string): string => lines.find((l) => l.includes(email)) ?? "";
    expect(lines[0]).toMatch(
      /#\s+ACCOUNT\s+PLAN\s+5H LEFT\s+RESETS\s+WEEKLY LEFT\s+RESETS\s+STATE/,
    );
    expect(row("a@example.com")).toMatch(/^→\*\s+1\s+a@example\.com\s+plus\s+88%◂ █████████░/);
    expect(row("a@example.com")).toMatch(/\(in 4h 59m\)|\(in 5h\)/);
    expect(row("a@example.com")).toMatch(/ok$/);
    expect(row("b@example.com")).toMatch(/\s3%◂ █░░░░░░░░░.*low$/);
    expect(row("c@example.com")).toMatch(/pro\s+50%◂.*ok$/);
    expect(row("d@example.com")).toMatch(
      new RegExp(`0%◂ ░{10}\\s+(?:\\w{3} )?${hhmm(resetD)} \\(in 2h 1[34]m\\)`),
    );
    expect(row("d@example.com")).toMatch(
      new RegExp(`exhausted until (?:\\w{3} )?${hhmm(resetD)}$`),
    );
    expect(table.stdout).toContain("Next run: 1 a@example.com (5h 88% left)");
    expect(table.stdout).not.toMatch(/\u001b\[/); // NO_COLOR and not a TTY
    expect(sim.requests().filter((r) => r.kind === "usage")).toHaveLength(4);

    // Within quotaMaxAgeSeconds nothing is probed again; --refresh probes every account.
    const cached = await runCli(["status", "--json"], { env });
    expect(sim.requests().filter((r) => r.kind === "usage")).toHaveLength(4);
    const doc = JSON.parse(cached.stdout) as { accounts: JsonAccount[]; chosen: { index: number } };
    expect(doc.accounts.map((a) => [a.index, a.email, a.state])).toEqual([
      [1, "a@example.com", "ok"],
      [2, "b@example.com", "low"],
      [3, "c@example.com", "ok"],
      [4, "d@example.com", "exhausted"],
    ]);
    const a = doc.accounts[0]!;
    expect(a).toMatchObject({
      plan: "plus",
      bottleneck: "5h",
      source: "usage-api",
      default: true,
      chosen: true,
    });
    expect(a.id).toMatch(/^acc_/);
    expect(a.windows).toEqual([
      {
        kind: "5h",
        label: "5h",
        windowMinutes: 300,
        usedPercent: 12,
        leftPercent: 88,
        resetsAt: expect.stringMatching(/Z$/),
      },
      {
        kind: "weekly",
        label: "weekly",
        windowMinutes: 10080,
        usedPercent: 0,
        leftPercent: 100,
        resetsAt: expect.stringMatching(/Z$/),
      },
    ]);
    expect(Date.parse(a.observedAt)).toBeGreaterThan(Date.now() - 60_000);
    expect(doc.accounts[2]).toMatchObject({ plan: "pro", bottleneck: "5h" });
    expect(doc.accounts[3]?.exhaustedUntil).toBe(new Date(resetD * 1000).toISOString());
    expect(doc.chosen.index).toBe(1);

    await runCli(["status", "--refresh", "--json"], { env });
    expect(sim.requests().filter((r) => r.kind === "usage")).toHaveLength(8);
    expect(sim.strayRequests()).toEqual([]);
  });

  it("a 401 marks one account needs-login; a silent one costs its timeout; the rest are intact", async () => {
    await using homes = await tempHomes();
    await using sim = await withSim([
      { accountId: "acct-A", email: "a@example.com", usage: { primaryUsedPercent: 40 } },
      { accountId: "acct-X", email: "x@example.com", usage: { status: 401 } },
      { accountId: "acct-H", email: "h@example.com", usage: { hang: true } },
    ]);
    const store = makeStore(homes.poolHome);
    const seeded = await seedPool(store, sim, [
      { accountId: "acct-A" },
      { accountId: "acct-X" },
      { accountId: "acct-H" },
    ]);
    const env = {
      ...homes.env,
      CODEX_POOL_BACKEND_URL: sim.httpBackendUrl,
      CODEX_POOL_AUTH_URL: sim.authUrl,
      CODEX_POOL_PROBE_TIMEOUT_MS: "800",
    };
    const started = performance.now();
    const result = await runCli(["status", "--json"], { env });
    const elapsed = performance.now() - started;
    expect(result.code).toBe(0);
    expect(elapsed).toBeLessThan(800 + 4000); // node start-up + the one timeout, not a stall
    const doc = JSON.parse(result.stdout) as {
      accounts: (JsonAccount & { error: { kind: string; message: string } | null })[];
    };
    expect(doc.accounts.map((a) => a.state)).toEqual(["ok", "needs-login", "error"]);
    expect(doc.accounts[2]?.error).toMatchObject({
      kind: "timeout",
      message: "no answer in 800ms",
    });
    expect(doc.accounts[0]?.windows[0]?.usedPercent).toBe(40);
    const pool = await store.read();
    expect(pool.accounts[0]?.tokens).toEqual(seeded[0]?.tokens);
    expect(pool.accounts[1]?.state.kind).toBe("needs-login");
    expect(result.stdout + result.stderr).not.toContain(seeded[0]!.tokens.accessToken);

    const table = await runCli(["status"], { env: { ...env, CODEX_POOL_PROBE_TIMEOUT_MS: "300" } });
    expect(table.stdout).toMatch(/x@example\.com.*needs-login/);
    expect(table.stdout).toMatch(/h@example\.com.*error: no answer in 300ms/);
  });

  it("says how to start with an empty pool", async () => {
    await using homes = await tempHomes();
    const result = await runCli(["status"], { env: homes.env });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/No accounts in the pool yet/);
    const json = await runCli(["status", "--json"], { env: homes.env });
    expect(JSON.parse(json.stdout)).toEqual({ accounts: [], chosen: null, earliestReset: null });
  });
});
