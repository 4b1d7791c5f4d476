import { describe, expect, it } from "vitest";
import { ALICE, BOB, at, withSim } from "./helpers.js";

function get(url: string, token: string, accountId = "acct-A"): Promise<Response> {
  return fetch(url, {
    headers: { authorization: `Bearer ${token}`, "chatgpt-account-id": accountId },
  });
}

describe("simulator /wham/usage", () => {
  it("answers the account's script in the shape codex reads", async () => {
    const now = Math.floor(Date.now() / 1000);
    await using sim = await withSim([
      {
        ...ALICE,
        usage: { primaryUsedPercent: 12, primaryResetAt: now + 3600, secondaryUsedPercent: 10 },
      },
      { ...BOB, usage: { primaryUsedPercent: 100 } },
    ]);
    const a = sim.mintTokens("acct-A");
    const res = await get(`${sim.httpBackendUrl}/wham/usage`, a.accessToken);
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(at(body, "plan_type")).toBe("plus");
    expect(at(body, "rate_limit.limit_reached")).toBe(false);
    expect(at(body, "rate_limit.allowed")).toBe(true);
    expect(at(body, "rate_limit.primary_window")).toMatchObject({
      used_percent: 12,
      limit_window_seconds: 18000,
      reset_at: now + 3600,
    });
    expect(at(body, "rate_limit.primary_window.reset_after_seconds")).toBeGreaterThan(3590);
    expect(at(body, "rate_limit.secondary_window")).toMatchObject({
      used_percent: 10,
      limit_window_seconds: 604800,
    });
    expect(at(body, "rate_limit.secondary_window.reset_at")).toBeGreaterThan(now + 6 * 86400);

    const b = sim.mintTokens("acct-B");
    const bodyB = await (
      await get(`${sim.httpBackendUrl}/wham/usage`, b.accessToken, "acct-B")
    ).json();
    expect(at(bodyB, "plan_type")).toBe("pro");
    expect(at(bodyB, "rate_limit.limit_reached")).toBe(true);
    expect(
      sim
        .requests()
        .filter((r) => r.kind === "usage")
        .map((r) => r.accountId),
    ).toEqual(["acct-A", "acct-B"]);
  });

  it("rejects unknown and expired bearer tokens with 401", async () => {
    await using sim = await withSim([ALICE]);
    expect((await get(`${sim.httpBackendUrl}/wham/usage`, "not-a-token")).status).toBe(401);
    const expired = sim.mintTokens("acct-A", { ttlSeconds: -10 });
    const res = await get(`${sim.httpBackendUrl}/wham/usage`, expired.accessToken);
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: { code: "token_expired" } });
    expect((await fetch(`${sim.httpBackendUrl}/wham/usage`)).status).toBe(401);
  });

  it("status, body, latency and hang overrides; patchAccount changes the script", async () => {
    await using sim = await withSim([{ ...ALICE, usage: { status: 500 } }]);
    const t = sim.mintTokens("acct-A");
    const url = `${sim.httpBackendUrl}/wham/usage`;
    expect((await get(url, t.accessToken)).status).toBe(500);

    sim.patchAccount("acct-A", { usage: { status: 200, body: { weird: true } } });
    expect(await (await get(url, t.accessToken)).json()).toEqual({ weird: true });

    sim.patchAccount("acct-A", { usage: { body: "not json{" } });
    expect(await (await get(url, t.accessToken)).text()).toBe("not json{");

    sim.patchAccount("acct-A", {
      usage: { body: undefined, latencyMs: 150, primaryUsedPercent: 40 },
    });
    const started = Date.now();
    const slow = await (await get(url, t.accessToken)).json();
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(at(slow, "rate_limit.primary_window.used_percent")).toBe(40);

    sim.patchAccount("acct-A", { usage: { latencyMs: 0, hang: true } });
    const hung = fetch(url, {
      headers: { authorization: `Bearer ${t.accessToken}` },
      signal: AbortSignal.timeout(300),
    });
    await expect(hung).rejects.toThrow();
    const last = sim.requests().at(-1)!;
    expect(last).toMatchObject({ kind: "usage", status: 0 });
  });
});
