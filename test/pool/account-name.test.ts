/** One name for an account in every message (src/pool/account-name.ts). */
import { describe, expect, it } from "vitest";
import { accountName, accountNameAt, maskEmail } from "../../src/pool/account-name.js";
import { upsertAccount } from "../../src/pool/accounts.js";
import { emptyPool, type Pool } from "../../src/pool/schema.js";
import { refOf } from "../../src/supervisor/choose.js";
import {
  attributionJson,
  attributionLine,
  countdownLine,
  exhaustedMessage,
  formatSwitchLine,
} from "../../src/supervisor/render.js";

const NOW = new Date("2026-06-01T12:00:00Z");

/** Two accounts whose emails start alike (alice@work… and alice@home…), then bob. */
function lookalikes(): Pool {
  const pool = emptyPool();
  for (const [accountId, email] of [
    ["acct-W", "alice@work.example"],
    ["acct-H", "alice@home.example"],
    ["acct-B", "bob@example.com"],
  ] as const) {
    upsertAccount(
      pool,
      {
        accountId,
        email,
        plan: "plus",
        tokens: {
          accessToken: "a",
          refreshToken: "r",
          idToken: "i",
          accessTokenExpiresAt: null,
          lastRefreshAt: null,
        },
      },
      NOW,
    );
  }
  return pool;
}

describe("accountName", () => {
  it("masks the email and puts the list number first, so look-alike accounts differ", () => {
    const pool = lookalikes();
    const [work, home] = pool.accounts;
    expect(accountName(pool, work!)).toBe("#1 alice@…");
    expect(accountName(pool, home!)).toBe("#2 alice@…");
    expect(accountName(pool, work!)).not.toBe(accountName(pool, home!));
    expect(accountName(pool, home!, { reveal: true })).toBe("#2 alice@home.example");
  });

  it("prefers the account's label, and drops the number of an account no longer in the pool", () => {
    const pool = lookalikes();
    const home = { ...pool.accounts[1]!, label: "home" };
    expect(accountName(pool, home)).toBe("#2 home");
    expect(accountName(pool, home, { reveal: true })).toBe("#2 home (alice@home.example)");
    expect(accountName(emptyPool(), home)).toBe("home");
    expect(accountNameAt(0, { email: "x@y.z", label: null })).toBe("x@…");
    expect(maskEmail("no-at-sign")).toBe("no-at-sign");
  });
});

describe("the supervisor's lines name accounts the same way", () => {
  const pool = lookalikes();
  const work = refOf(pool, pool.accounts[0]!);
  const home = refOf(pool, pool.accounts[1]!);

  it("switch line, attribution (plain and JSON)", async () => {
    const clock = { now: () => NOW.getTime() };
    const line = await formatSwitchLine(pool, clock, "0193aaaa-bbbb", work, home, "limit");
    expect(line).toBe(
      "session 0193aaaa… moved from #1 alice@… (quota unknown) to #2 alice@… (quota unknown): usage limit reached",
    );
    expect(attributionLine(home, work, "limit", 0)).toBe(
      "run served by #2 alice@…, after #1 alice@… (usage limit reached); exit 0",
    );
    expect(JSON.parse(attributionJson(home, work, "floor", 0, "t1"))).toMatchObject({
      account: "#2 alice@…",
      switched_from: "#1 alice@…",
      reason: "quota_floor",
    });
  });

  it("countdown and pool-exhausted message", () => {
    const resets = [
      { account: work, resetsAt: NOW.getTime() + 3_600_000 },
      { account: home, resetsAt: NOW.getTime() + 600_000 },
    ];
    const exhaustion = { resets, earliest: NOW.getTime() + 600_000 };
    expect(countdownLine(60_000, exhaustion, NOW.getTime())).toContain("#2 alice@… resets at");
    const { message } = exhaustedMessage(exhaustion, NOW.getTime(), null);
    expect(message).toContain("#1 alice@…");
    expect(message).toContain("#2 alice@…");
  });

  it("refOf takes the name from the pool it reads", () => {
    expect(work.label).toBe("#1 alice@…");
    expect(refOf(pool, pool.accounts[2]!)).toEqual({ id: pool.accounts[2]!.id, label: "#3 bob@…" });
  });
});
