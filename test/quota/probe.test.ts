import http from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import type { QuotaSnapshot } from "../../src/pool/schema.js";
import { commitProbeResults, recordSnapshot } from "../../src/quota/commit.js";
import { probeAccounts, refreshQuotas } from "../../src/quota/probe-all.js";
import { nodeFetch } from "../../src/platform/http.js";
import { fetchUsage, ProbeFailure } from "../../src/quota/usage-client.js";
import { tempHomes } from "../helpers/tmp.js";
import { makeStore, probeDeps, seedPool, withSim } from "./support.js";

const OPTS = { concurrency: 8, timeoutMs: 5000, maxAgeSeconds: 60, force: false };

function exhaustedPast(): QuotaSnapshot {
  const past = new Date(Date.now() - 60_000).toISOString();
  return {
    observedAt: new Date(Date.now() - 30_000).toISOString(),
    source: "usage-api",
    plan: "plus",
    windows: [{ kind: "5h", windowMinutes: 300, usedPercent: 100, resetsAt: past }],
    limitReached: true,
  };
}

function freshSnapshot(used: number): QuotaSnapshot {
  return {
    observedAt: new Date().toISOString(),
    source: "usage-api",
    plan: "plus",
    windows: [
      {
        kind: "5h",
        windowMinutes: 300,
        usedPercent: used,
        resetsAt: new Date(Date.now() + 3_600_000).toISOString(),
      },
    ],
    limitReached: false,
  };
}

describe("refreshQuotas against the simulator", () => {
  it("probes stale and past-reset accounts, skips fresh ones, and stores the snapshots", async () => {
    await using homes = await tempHomes();
    await using sim = await withSim([
      { accountId: "acct-A", email: "a@example.com", usage: { primaryUsedPercent: 12 } },
      { accountId: "acct-B", email: "b@example.com", usage: { primaryUsedPercent: 97 } },
      {
        accountId: "acct-C",
        email: "c@example.com",
        plan: "pro",
        usage: { primaryUsedPercent: 20, secondaryUsedPercent: 40 },
      },
      { accountId: "acct-D", email: "d@example.com", usage: { primaryUsedPercent: 1 } },
    ]);
    const store = makeStore(homes.poolHome);
    const [a, b, c, d] = await seedPool(store, sim, [
      { accountId: "acct-A" },
      { accountId: "acct-B" },
      { accountId: "acct-C", quota: exhaustedPast() },
      { accountId: "acct-D", quota: freshSnapshot(50) },
    ]);
    const { pool, probed } = await refreshQuotas(
      store,
      probeDeps(store, sim, homes.poolHome),
      OPTS,
    );
    expect(probed.map((p) => p.id).sort()).toEqual([a!.id, b!.id, c!.id].sort());
    expect(probed.every((p) => p.outcome.kind === "ok")).toBe(true);
    const byId = new Map(pool.accounts.map((x) => [x.id, x]));
    expect(byId.get(a!.id)?.quota?.windows.map((w) => [w.kind, w.usedPercent])).toEqual([
      ["5h", 12],
      ["weekly", 0],
    ]);
    expect(byId.get(c!.id)?.quota?.limitReached).toBe(false);
    expect(byId.get(c!.id)?.plan).toBe("pro");
    // The fresh one was left alone (the simulator would have said 1 %).
    expect(byId.get(d!.id)?.quota?.windows[0]?.usedPercent).toBe(50);
    expect(sim.requests().filter((r) => r.kind === "usage")).toHaveLength(3);
    // What was returned is what was committed.
    expect((await store.read()).accounts).toEqual(pool.accounts);
  });

  it("one account that never answers costs at most its timeout; the others are stored", async () => {
    await using homes = await tempHomes();
    await using sim = await withSim([
      { accountId: "acct-A", email: "a@example.com", usage: { primaryUsedPercent: 5 } },
      { accountId: "acct-H", email: "h@example.com", usage: { hang: true } },
      { accountId: "acct-B", email: "b@example.com", usage: { primaryUsedPercent: 6 } },
    ]);
    const store = makeStore(homes.poolHome);
    const [a, h, b] = await seedPool(store, sim, [
      { accountId: "acct-A" },
      { accountId: "acct-H" },
      { accountId: "acct-B" },
    ]);
    const started = performance.now();
    const { pool, probed } = await refreshQuotas(store, probeDeps(store, sim, homes.poolHome), {
      ...OPTS,
      timeoutMs: 700,
    });
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(650);
    expect(elapsed).toBeLessThan(700 + 1500);
    const hung = probed.find((p) => p.id === h!.id)!;
    expect(hung.outcome).toMatchObject({ kind: "failed", error: { kind: "timeout" } });
    const rows = new Map(pool.accounts.map((x) => [x.id, x]));
    expect(rows.get(h!.id)?.probeError?.kind).toBe("timeout");
    expect(rows.get(h!.id)?.quota).toBeNull();
    expect(rows.get(a!.id)?.quota?.windows[0]?.usedPercent).toBe(5);
    expect(rows.get(b!.id)?.quota?.windows[0]?.usedPercent).toBe(6);
  });

  it("a 401 forces one refresh and one retry, then marks needs-login; others stay intact", async () => {
    await using homes = await tempHomes();
    await using sim = await withSim([
      { accountId: "acct-A", email: "a@example.com", usage: { primaryUsedPercent: 33 } },
      { accountId: "acct-X", email: "x@example.com", usage: { status: 401 } },
    ]);
    const store = makeStore(homes.poolHome);
    const [a, x] = await seedPool(store, sim, [{ accountId: "acct-A" }, { accountId: "acct-X" }]);
    const { pool } = await refreshQuotas(store, probeDeps(store, sim, homes.poolHome), OPTS);
    const rows = new Map(pool.accounts.map((r) => [r.id, r]));
    expect(rows.get(x!.id)?.state).toMatchObject({ kind: "needs-login" });
    expect(rows.get(x!.id)?.probeError?.kind).toBe("auth");
    expect(sim.refreshCount("acct-X")).toBe(1);
    expect(
      sim.requests().filter((r) => r.kind === "usage" && r.accountId === "acct-X"),
    ).toHaveLength(2);
    // The refreshed tokens were kept (a rotated refresh token must never be thrown away).
    expect(rows.get(x!.id)?.tokens.refreshToken).not.toBe(x!.tokens.refreshToken);
    expect(rows.get(a!.id)?.state).toEqual({ kind: "ok" });
    expect(rows.get(a!.id)?.quota?.windows[0]?.usedPercent).toBe(33);
    expect(sim.refreshCount("acct-A")).toBe(0);
    // A needs-login account is not probed again.
    const again = await refreshQuotas(store, probeDeps(store, sim, homes.poolHome), {
      ...OPTS,
      force: true,
    });
    expect(again.probed.map((p) => p.id)).toEqual([a!.id]);
  });

  it("takes the pool the caller already read instead of reading it again", async () => {
    await using homes = await tempHomes();
    await using sim = await withSim([{ accountId: "acct-A", email: "a@example.com" }]);
    const store = makeStore(homes.poolHome);
    await seedPool(store, sim, [{ accountId: "acct-A", quota: freshSnapshot(40) }]);
    const before = await store.read();
    let reads = 0;
    const counting = new Proxy(store, {
      get: (target, key) =>
        key === "read" ? () => (reads++, target.read()) : (Reflect.get(target, key) as unknown),
    });
    const { pool, probed } = await refreshQuotas(counting, probeDeps(store, sim, homes.poolHome), {
      ...OPTS,
      before,
    });
    expect(probed).toEqual([]);
    expect(pool).toBe(before);
    expect(reads).toBe(0);
  });

  it("an expired access token is refreshed before the probe", async () => {
    await using homes = await tempHomes();
    await using sim = await withSim([{ accountId: "acct-A", email: "a@example.com" }]);
    const store = makeStore(homes.poolHome);
    await seedPool(store, sim, [{ accountId: "acct-A", ttlSeconds: 60 }]); // inside the 300 s skew
    const { probed } = await refreshQuotas(store, probeDeps(store, sim, homes.poolHome), OPTS);
    expect(probed[0]?.outcome.kind).toBe("ok");
    expect(sim.refreshCount("acct-A")).toBe(1);
    const usage = sim.requests().filter((r) => r.kind === "usage");
    expect(usage.map((r) => r.status)).toEqual([200]);
  });

  it("classifies malformed answers and server errors without storing a zero", async () => {
    await using homes = await tempHomes();
    await using sim = await withSim([
      { accountId: "acct-J", email: "j@example.com", usage: { body: "{not json" } },
      { accountId: "acct-E", email: "e@example.com", usage: { body: { rate_limit: [] } } },
      {
        accountId: "acct-T",
        email: "t@example.com",
        usage: { body: { rate_limit: { primary_window: { used_percent: "x" } } } },
      },
      { accountId: "acct-S", email: "s@example.com", usage: { status: 503 } },
      { accountId: "acct-L", email: "l@example.com", usage: { body: "x".repeat(300 * 1024) } },
    ]);
    const store = makeStore(homes.poolHome);
    const seeded = await seedPool(
      store,
      sim,
      ["acct-J", "acct-E", "acct-T", "acct-S", "acct-L"].map((accountId) => ({ accountId })),
    );
    const { pool } = await refreshQuotas(store, probeDeps(store, sim, homes.poolHome), OPTS);
    const errors = seeded.map((s) => pool.accounts.find((r) => r.id === s.id)?.probeError);
    expect(errors.map((e) => e?.kind)).toEqual([
      "malformed",
      "malformed",
      "malformed",
      "http",
      "malformed",
    ]);
    expect(errors[3]?.message).toBe("server error 503");
    expect(errors[4]?.message).toMatch(/too large/);
    expect(pool.accounts.every((r) => r.quota === null)).toBe(true);
  });

  it("50 accounts at 50 ms latency finish in well under a second (bounded concurrency)", async () => {
    await using homes = await tempHomes();
    const specs = Array.from({ length: 50 }, (_, i) => ({
      accountId: `acct-${i}`,
      email: `u${i}@example.com`,
      usage: { primaryUsedPercent: i, latencyMs: 50 },
    }));
    await using sim = await withSim(specs);
    const store = makeStore(homes.poolHome);
    await seedPool(
      store,
      sim,
      specs.map((s) => ({ accountId: s.accountId })),
    );
    const started = performance.now();
    const { probed } = await refreshQuotas(store, probeDeps(store, sim, homes.poolHome), {
      ...OPTS,
      concurrency: 16,
    });
    const elapsed = performance.now() - started;
    expect(probed.filter((p) => p.outcome.kind === "ok")).toHaveLength(50);
    expect(elapsed).toBeLessThan(1000);
  });
});

// Both clients the callers may be given: our own (what the CLI passes) and the global fetch.
describe.each([
  ["our HTTP client", nodeFetch],
  ["the global fetch", globalThis.fetch.bind(globalThis)],
] as const)("fetchUsage through %s", (_name, client) => {
  it("sends the bearer token and account id, and caps a body without content-length", async () => {
    const seen: http.IncomingHttpHeaders[] = [];
    const server = http.createServer((req, res) => {
      seen.push(req.headers);
      res.writeHead(200, { "content-type": "application/json" });
      // Chunked, no content-length: the cap must hold while streaming.
      const chunk = "x".repeat(64 * 1024);
      for (let i = 0; i < 8; i += 1) res.write(chunk);
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const port = (server.address() as AddressInfo).port;
      const error = await fetchUsage({
        backendUrl: `http://127.0.0.1:${port}/backend-api`,
        accessToken: "tok-123",
        accountId: "acct-Z",
        fetch: client,
        now: () => new Date(),
      }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ProbeFailure);
      expect((error as ProbeFailure).kind).toBe("malformed");
      expect(seen[0]?.authorization).toBe("Bearer tok-123");
      expect(seen[0]?.["chatgpt-account-id"]).toBe("acct-Z");
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("a 401 whose body is cut off is a network failure, not an unauthorized answer (no forced refresh)", async () => {
    const server = http.createServer((_req, res) => {
      res.writeHead(401, { "content-type": "application/json", "content-length": "200" });
      res.write('{"error": {"code": "token_inval');
      setTimeout(() => res.socket?.destroy(), 20);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const port = (server.address() as AddressInfo).port;
      const error = await fetchUsage({
        backendUrl: `http://127.0.0.1:${port}`,
        accessToken: "t",
        accountId: "a",
        fetch: client,
        now: () => new Date(),
      }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ProbeFailure);
      expect((error as ProbeFailure).kind).toBe("network");
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("reports a refused connection as a network failure", async () => {
    const server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as AddressInfo).port;
    await new Promise((resolve) => server.close(resolve));
    const error = await fetchUsage({
      backendUrl: `http://127.0.0.1:${port}`,
      accessToken: "t",
      accountId: "a",
      fetch: client,
      now: () => new Date(),
    }).catch((e: unknown) => e);
    expect((error as ProbeFailure).kind).toBe("network");
    expect((error as ProbeFailure).message).toMatch(/ECONNREFUSED/);
  });
});

describe("commit rules", () => {
  it("a snapshot never replaces a newer one; a removed account is ignored", async () => {
    await using homes = await tempHomes();
    await using sim = await withSim([{ accountId: "acct-A", email: "a@example.com" }]);
    const store = makeStore(homes.poolHome);
    const [a] = await seedPool(store, sim, [{ accountId: "acct-A", quota: freshSnapshot(40) }]);
    const older = { ...freshSnapshot(90), observedAt: new Date(Date.now() - 60_000).toISOString() };
    expect(await recordSnapshot(store, a!.id, older)).toBe(false);
    const pool = await commitProbeResults(
      store,
      [
        { id: a!.id, outcome: { kind: "ok", snapshot: older }, durationMs: 1 },
        { id: "acc_gone000", outcome: { kind: "ok", snapshot: older }, durationMs: 1 },
      ],
      new Date(),
    );
    expect(pool.accounts[0]?.quota?.windows[0]?.usedPercent).toBe(40);
    const deps = probeDeps(store, sim, homes.poolHome);
    const results = await probeAccounts([pool.accounts[0]!], deps, {
      concurrency: 1,
      timeoutMs: 5000,
    });
    expect(results[0]?.outcome.kind).toBe("ok");
  });
});

describe("accounts owned by a running codex", () => {
  it("are never refreshed by a probe: a near-expiry token is skipped, a fresh one is used", async () => {
    await using homes = await tempHomes();
    await using sim = await withSim([
      { accountId: "acct-A", email: "a@example.com" },
      { accountId: "acct-B", email: "b@example.com", usage: { primaryUsedPercent: 9 } },
    ]);
    const store = makeStore(homes.poolHome);
    const [a, b] = await seedPool(store, sim, [
      { accountId: "acct-A", ttlSeconds: 60 },
      { accountId: "acct-B" },
    ]);
    const deps = probeDeps(store, sim, homes.poolHome);
    const owned = new Set([a!.id, b!.id]);
    const results = await probeAccounts([a!, b!], deps, {
      concurrency: 2,
      timeoutMs: 5000,
      codexOwned: owned,
    });
    expect(results.map((r) => r.outcome.kind)).toEqual(["skipped", "ok"]);
    expect(sim.refreshCount()).toBe(0);
    const pool = await commitProbeResults(store, results, new Date());
    expect(pool.accounts[0]?.probeError).toBeNull();
    expect(pool.accounts[1]?.quota?.windows[0]?.usedPercent).toBe(9);
  });
});
