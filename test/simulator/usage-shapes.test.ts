/**
 * The simulator answers in the real service's shapes when a usage script asks for one
 * (docs/chatgpt-backend.md §3.1–§3.3): the /wham/usage body, the turn headers and errors — read
 * back through our own parsers, as the product reads them.
 */
import { describe, expect, it } from "vitest";
import { parseRateLimitHeaders } from "../../src/quota/parse-headers.js";
import { classifyErrorText } from "../../src/quota/parse-service-error.js";
import { parseUsageBody } from "../../src/quota/parse-usage.js";
import { ALICE, at, withSim } from "./helpers.js";

const HOUR = 3600;

function turn(url: string, token: string): Promise<Response> {
  return fetch(`${url}/codex/responses`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      authorization: `Bearer ${token}`,
      "chatgpt-account-id": "acct-A",
    },
    body: JSON.stringify({
      model: "gpt-5.5",
      stream: true,
      input: [{ type: "message", role: "user", content: [{ type: "input_text", text: "hi" }] }],
    }),
  });
}

describe("simulator: real-service shapes", () => {
  it("a spend-capped seat: rate_limit null, numbers as strings, the reached-type object", async () => {
    await using sim = await withSim([
      {
        ...ALICE,
        usage: {
          spendControl: { reached: true, limit: "700", used: "1811.96", usedPercent: 259 },
        },
      },
    ]);
    const t = sim.mintTokens("acct-A");
    const body: unknown = await (
      await fetch(`${sim.httpBackendUrl}/wham/usage`, {
        headers: { authorization: `Bearer ${t.accessToken}`, "chatgpt-account-id": "acct-A" },
      })
    ).json();
    expect(at(body, "rate_limit")).toBeNull();
    expect(at(body, "spend_control.individual_limit.limit")).toBe("700");
    expect(at(body, "rate_limit_reached_type.type")).toBe("workspace_member_usage_limit_reached");
    expect(parseUsageBody(body, new Date()).allowances).toMatchObject([
      { kind: "spend-cap", reached: true, usedPercent: 259 },
    ]);
  });

  it("turn headers: a missing window as zeros and an empty reset-at, a family per model", async () => {
    await using sim = await withSim([
      {
        ...ALICE,
        turns: { websocket: false },
        usage: {
          windows: [{ seconds: 604_740, usedPercent: 40, resetAfterSeconds: 2 * 24 * HOUR }],
          modelLimits: [
            {
              limitName: "GPT-5.3-Codex-Spark",
              meteredFeature: "codex_bengalfox",
              windows: [{ seconds: 18_000, usedPercent: 70 }],
            },
          ],
        },
      },
    ]);
    const t = sim.mintTokens("acct-A");
    const res = await turn(sim.httpBackendUrl, t.accessToken);
    await res.text();
    expect(res.status).toBe(200);
    expect(res.headers.get("x-codex-secondary-window-minutes")).toBe("0");
    expect(res.headers.get("x-codex-secondary-reset-at")).toBe("");
    expect(res.headers.get("x-codex-credits-has-credits")).toBe("False");
    expect(res.headers.get("x-codex-bengalfox-limit-name")).toBe("GPT-5.3-Codex-Spark");
    const snap = parseRateLimitHeaders(res.headers, new Date())!;
    expect(snap.windows.map((w) => [w.kind, w.usedPercent])).toEqual([["weekly", 40]]);
    expect(snap.sideLimits).toMatchObject([
      { name: "GPT-5.3-Codex-Spark", feature: "codex-bengalfox", windows: [{ usedPercent: 70 }] },
    ]);
  });

  it("turnError refuses real turns with the scripted error (here usage_not_included)", async () => {
    await using sim = await withSim([
      {
        ...ALICE,
        turns: {
          websocket: false,
          turnError: {
            status: 429,
            body: { error: { type: "usage_not_included", message: "not in your plan" } },
          },
        },
      },
    ]);
    const t = sim.mintTokens("acct-A");
    const res = await turn(sim.httpBackendUrl, t.accessToken);
    expect(res.status).toBe(429);
    expect(classifyErrorText(429, await res.text(), new Date()).kind).toBe("not-included");
  });
});
