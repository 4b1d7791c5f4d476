/** `codex-pool switch --best` chooses from fresh quota: stale snapshots are re-checked first. */
import fs from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";
import { tempHomes } from "../helpers/tmp.js";
import { makeStore, seedPool, withSim } from "./support.js";

describe("codex-pool switch --best", () => {
  it("re-checks stale snapshots and switches to the account with the most headroom", async () => {
    await using sim = await withSim([
      { accountId: "acct-A", email: "alice@example.com", usage: { primaryUsedPercent: 98 } },
      { accountId: "acct-B", email: "bob@example.com", usage: { primaryUsedPercent: 30 } },
    ]);
    await using homes = await tempHomes();
    const store = makeStore(homes.poolHome);
    // Stored data (an hour old) says alice is fresh and bob nearly out: the reverse of the truth.
    const old = new Date(Date.now() - 3600_000).toISOString();
    const snapshot = (used: number) => ({
      observedAt: old,
      source: "usage-api" as const,
      plan: "plus",
      windows: [{ kind: "5h" as const, windowMinutes: 300, usedPercent: used, resetsAt: null }],
      limitReached: false,
    });
    await seedPool(store, sim, [
      { accountId: "acct-A", quota: snapshot(10) },
      { accountId: "acct-B", quota: snapshot(97) },
    ]);
    const env = {
      ...homes.env,
      CODEX_POOL_AUTH_URL: sim.authUrl,
      CODEX_POOL_BACKEND_URL: sim.httpBackendUrl,
    };
    const r = await runCli(["switch", "--best"], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Switched to #2 bob@example\.com;/);
    expect(
      sim
        .requests()
        .filter((q) => q.kind === "usage")
        .map((q) => q.accountId)
        .sort(),
    ).toEqual(["acct-A", "acct-B"]);
    const auth = JSON.parse(await fs.readFile(path.join(homes.codexHome, "auth.json"), "utf8")) as {
      tokens: { account_id: string };
    };
    expect(auth.tokens.account_id).toBe("acct-B");
  });

  it("checks a never-checked account whose token expired (refreshing it) before choosing", async () => {
    await using sim = await withSim([
      { accountId: "acct-A", email: "alice@example.com", usage: { primaryUsedPercent: 80 } },
      { accountId: "acct-B", email: "bob@example.com", usage: { primaryUsedPercent: 10 } },
    ]);
    await using homes = await tempHomes();
    const store = makeStore(homes.poolHome);
    const fresh = {
      observedAt: new Date().toISOString(),
      source: "usage-api" as const,
      plan: "plus",
      windows: [{ kind: "5h" as const, windowMinutes: 300, usedPercent: 80, resetsAt: null }],
      limitReached: false,
    };
    await seedPool(store, sim, [
      { accountId: "acct-A", quota: fresh },
      { accountId: "acct-B", ttlSeconds: -60 },
    ]);
    const env = {
      ...homes.env,
      CODEX_POOL_AUTH_URL: sim.authUrl,
      CODEX_POOL_BACKEND_URL: sim.httpBackendUrl,
    };
    const r = await runCli(["switch", "--best"], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Switched to #2 bob@example\.com;/);
    expect(sim.refreshCount("acct-B")).toBe(1);
    const usage = sim.requests().filter((q) => q.kind === "usage");
    expect(usage.map((q) => [q.accountId, q.status])).toEqual([["acct-B", 200]]);
  });
});
