import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deviceLogin, retryAfterMs } from "../../src/auth/login-device.js";
import { storeSignIn } from "../../src/auth/sign-in.js";
import { AuthError } from "../../src/platform/errors.js";
import { startSimulator, type Simulator } from "../../src/simulator/index.js";
import { tempHomes } from "../helpers/tmp.js";
import { makeStore } from "./support.js";
import { clockAt } from "../helpers/virtual-clock.js";

let sim: Simulator;

function urlOf(input: string | URL | Request): string {
  return typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
}

beforeAll(async () => {
  sim = await startSimulator({
    accounts: [{ accountId: "acct-D", email: "dora@example.com", plan: "pro" }],
  });
});

afterAll(async () => {
  expect(sim.strayRequests()).toEqual([]);
  await sim.close();
});

describe("device sign-in", () => {
  it("shows the code, keeps polling through 403, exchanges the code and stores the account", async () => {
    await using homes = await tempHomes();
    const store = makeStore(homes.poolHome);
    const lines: string[] = [];
    const waits: number[] = [];
    const grant = await deviceLogin({
      authUrl: sim.authUrl,
      fetch,
      timeoutMs: 20_000,
      notify: (line) => lines.push(line),
      sleep: (ms) => {
        waits.push(ms);
        return Promise.resolve();
      },
    });
    const text = lines.join("\n");
    expect(text).toContain(`${sim.authUrl}/codex/device`);
    expect(text).toMatch(/^ {2}[0-9A-F]{4}-[0-9A-F]{6}$/m);
    // The server's "1" (a string) interval is honoured between polls.
    expect(waits).toEqual([1000]);
    const polls = sim.requests().filter((r) => r.kind === "device-token");
    expect(polls.map((r) => r.status)).toEqual([403, 200]);
    expect(
      sim
        .requests()
        .filter((r) => r.kind === "token-exchange")
        .at(-1)?.status,
    ).toBe(200);

    const { account, created } = await storeSignIn(store, grant, new Date());
    expect(created).toBe(true);
    expect(account).toMatchObject({ accountId: "acct-D", email: "dora@example.com", plan: "pro" });
    expect(account.tokens.refreshToken).toMatch(/^rt-acct-D-/);
  });

  it("gives up with a clear error when the budget runs out", async () => {
    let now = 0;
    const login = deviceLogin({
      authUrl: sim.authUrl,
      // Every poll answers "not yet": the approval never comes.
      fetch: async (input, init) => {
        if (urlOf(input).endsWith("/deviceauth/token")) return new Response("", { status: 403 });
        return fetch(input, init);
      },
      timeoutMs: 5000,
      clock: clockAt(() => now),
      notify: () => undefined,
      sleep: (ms) => {
        now += ms;
        return Promise.resolve();
      },
    });
    await expect(login).rejects.toBeInstanceOf(AuthError);
    await expect(login).rejects.toThrow(/not approved within 5s.*login --device/);
  });

  it("stops on a terminal status instead of polling forever", async () => {
    const login = deviceLogin({
      authUrl: sim.authUrl,
      fetch: async (input, init) => {
        if (urlOf(input).endsWith("/deviceauth/token")) return new Response("{}", { status: 400 });
        return fetch(input, init);
      },
      timeoutMs: 5000,
      notify: () => undefined,
      sleep: () => Promise.resolve(),
    });
    await expect(login).rejects.toThrow(/answered 400/);
  });

  it("reads Retry-After as seconds or a date, with a 1 s floor", () => {
    const now = Date.parse("2026-01-01T00:00:00Z");
    const around = (ms: number, want: number) =>
      expect(Math.abs(ms - want)).toBeLessThanOrEqual(want * 0.1 + 1);
    around(retryAfterMs("7", 5000, now), 7000);
    around(retryAfterMs("0", 5000, now), 1000);
    around(retryAfterMs(new Date(now + 3000).toUTCString(), 5000, now), 3000);
    around(retryAfterMs(null, 5000, now), 5000);
  });
});
