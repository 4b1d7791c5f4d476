/**
 * The pool's side of every refresh in live mode (src/supervisor/live-tokens.ts): what is handed to
 * codex, when the pool refreshes, and when it must not.
 */
import { describe, expect, it } from "vitest";
import { NeedsLoginError } from "../../src/platform/errors.js";
import { RefreshTokenHeldError } from "../../src/pool/live-sessions.js";
import {
  emptyPool,
  type Account,
  type LiveSession,
  type Pool,
  type Tokens,
} from "../../src/pool/schema.js";
import {
  refreshDueAt,
  supplyAccount,
  type LiveTokenDeps,
} from "../../src/supervisor/live-tokens.js";

const NOW = Date.parse("2026-12-01T12:00:00.000Z");
const MIN = 60_000;
/** A relaunched session on another machine: its codex holds the refresh token. */
const HOLDER: LiveSession = {
  pid: 4242,
  host: "host-b",
  account: "acc_aaaaaa",
  sessionId: null,
  phase: "running",
  startedAt: new Date(NOW).toISOString(),
  heartbeatAt: new Date(NOW).toISOString(),
};

function tokens(access: string, expiresInMs: number): Tokens {
  return {
    accessToken: access,
    refreshToken: `refresh-of-${access}`,
    idToken: "",
    accessTokenExpiresAt: new Date(NOW + expiresInMs).toISOString(),
    lastRefreshAt: null,
  };
}

function account(t: Tokens, state: Account["state"] = { kind: "ok" }): Account {
  return {
    id: "acc_aaaaaa",
    accountId: "acct-A",
    email: "alice@example.com",
    plan: "plus",
    label: null,
    tokens: t,
    addedAt: new Date(NOW).toISOString(),
    lastUsedAt: null,
    state,
    quota: null,
    probeError: null,
    floors: {},
  };
}

function deps(row: Account, options: { heldElsewhere?: boolean } = {}) {
  const calls: string[] = [];
  const pool: Pool = { ...emptyPool(), accounts: [row] };
  const d: LiveTokenDeps = {
    store: { read: () => Promise.resolve(pool) },
    clock: { now: () => NOW },
    // The refresher's rule: fresh beyond a 5-minute skew.
    isFresh: (t) => Date.parse(t.accessTokenExpiresAt ?? "") > NOW + 5 * MIN,
    ensureFresh: (_id, opts) => {
      calls.push(`refresh${opts?.force === true ? " (forced)" : ""}`);
      return Promise.resolve(account(tokens("fresh", 60 * MIN)));
    },
    refreshTokenHolders: () => (options.heldElsewhere === true ? [HOLDER] : []),
    takeBack: () => {
      calls.push("take back");
      return Promise.resolve();
    },
  };
  return { d, calls };
}

describe("supplyAccount", () => {
  it("hands over a fresh access token as it is: the account's id and plan, no refresh", async () => {
    const { d, calls } = deps(account(tokens("T1", 60 * MIN)));
    const s = await supplyAccount(d, "acc_aaaaaa");
    expect(s.supplied).toEqual({ accessToken: "T1", chatgptAccountId: "acct-A", planType: "plus" });
    expect(calls).toEqual([]);
  });

  it("refreshes one near its expiry, after taking back what an earlier codex left", async () => {
    const { d, calls } = deps(account(tokens("T1", 2 * MIN)));
    expect((await supplyAccount(d, "acc_aaaaaa")).supplied.accessToken).toBe("fresh");
    expect(calls).toEqual(["take back", "refresh"]);
  });

  it("after a 401 refreshes the refused token however fresh it looks", async () => {
    const { d, calls } = deps(account(tokens("T1", 60 * MIN)));
    await supplyAccount(d, "acc_aaaaaa", { replacing: "T1" });
    expect(calls).toEqual(["take back", "refresh (forced)"]);
  });

  it("after a 401 on a token someone else already replaced, answers with the pool's, spending nothing", async () => {
    const { d, calls } = deps(account(tokens("T2", 60 * MIN)));
    expect((await supplyAccount(d, "acc_aaaaaa", { replacing: "T1" })).supplied.accessToken).toBe(
      "T2",
    );
    expect(calls).toEqual([]);
  });

  it("never refreshes an account whose refresh token another session's codex holds", async () => {
    const valid = deps(account(tokens("T1", 2 * MIN)), { heldElsewhere: true });
    expect((await supplyAccount(valid.d, "acc_aaaaaa")).supplied.accessToken).toBe("T1");
    const expired = deps(account(tokens("T1", -MIN)), { heldElsewhere: true });
    const refused = supplyAccount(expired.d, "acc_aaaaaa");
    await expect(refused).rejects.toBeInstanceOf(RefreshTokenHeldError);
    await expect(refused).rejects.toThrow(
      /held by the codex of a running session \(host-b \(pid 4242\)\)/,
    );
    expect([...valid.calls, ...expired.calls]).toEqual([]);
  });

  it("refuses an account that needs a new sign-in, or whose refresh is in doubt", async () => {
    const since = new Date(NOW).toISOString();
    for (const [state, said] of [
      [
        { kind: "needs-login", reason: "refresh_token_reused", since },
        /needs to sign in again \(refresh_token_reused\)/,
      ],
      [
        { kind: "in-doubt", reason: "holder died", since },
        /a refresh of .* is in doubt \(holder died\)/,
      ],
    ] as const) {
      const { d, calls } = deps(account(tokens("T1", 60 * MIN), state));
      const refused = supplyAccount(d, "acc_aaaaaa");
      await expect(refused).rejects.toBeInstanceOf(NeedsLoginError);
      // Said as the refresher says it everywhere, with the reason and what to run.
      await expect(refused).rejects.toThrow(said);
      await expect(refused).rejects.toThrow(/run codex-pool login/);
      expect(calls).toEqual([]);
    }
  });
});

describe("refreshDueAt", () => {
  it("is the skew before the expiry, never sooner than half-way through what is left", () => {
    expect(refreshDueAt(tokens("T", 60 * MIN), NOW, 5 * MIN)).toBe(NOW + 55 * MIN);
    // A token shorter-lived than the skew: half-way, not at once (and not for ever at once).
    expect(refreshDueAt(tokens("T", 4 * MIN), NOW, 5 * MIN)).toBe(NOW + 2 * MIN);
    expect(refreshDueAt(tokens("T", -MIN), NOW, 5 * MIN)).toBe(NOW);
    expect(
      refreshDueAt({ ...tokens("T", 0), accessTokenExpiresAt: null }, NOW, 5 * MIN),
    ).toBeNull();
  });
});
