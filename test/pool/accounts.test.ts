/** Account identity: upsert, selectors, and adopting tokens codex rotated. */
import { describe, expect, it } from "vitest";
import { AccountNotFoundError, UsageError } from "../../src/platform/errors.js";
import {
  adoptTokens,
  isNewerTokens,
  resolveAccount,
  upsertAccount,
} from "../../src/pool/accounts.js";
import { emptyPool, type Tokens } from "../../src/pool/schema.js";

const tok = (refreshToken: string, lastRefreshAt: string | null): Tokens => ({
  accessToken: `at-${refreshToken}`,
  refreshToken,
  idToken: "",
  accessTokenExpiresAt: null,
  lastRefreshAt,
});
const now = new Date("2026-05-01T00:00:00Z");

function pool() {
  const p = emptyPool();
  upsertAccount(
    p,
    {
      accountId: "acct-A",
      email: "Alice@Example.com",
      plan: "plus",
      tokens: tok("a1", "2026-01-01T00:00:00Z"),
    },
    now,
  );
  upsertAccount(
    p,
    {
      accountId: "acct-A",
      email: "carol@example.com",
      plan: "team",
      tokens: tok("c1", "2026-01-01T00:00:00Z"),
    },
    now,
  );
  upsertAccount(
    p,
    {
      accountId: "acct-B",
      email: "alice@example.com",
      plan: "pro",
      tokens: tok("b1", "2026-01-01T00:00:00Z"),
    },
    now,
  );
  return p;
}

describe("upsertAccount", () => {
  it("keys on account id + email (lower-cased); the first becomes the default", () => {
    const p = pool();
    expect(p.accounts.map((a) => [a.accountId, a.email])).toEqual([
      ["acct-A", "alice@example.com"],
      ["acct-A", "carol@example.com"],
      ["acct-B", "alice@example.com"],
    ]);
    expect(p.defaultAccount).toBe(p.accounts[0]!.id);
    const again = upsertAccount(
      p,
      {
        accountId: "acct-A",
        email: "alice@example.com",
        plan: null,
        tokens: tok("a2", "2026-02-01T00:00:00Z"),
      },
      now,
    );
    expect(again).toMatchObject({ created: false, tokensTaken: true });
    expect(p.accounts[0]!.plan).toBe("plus");
    expect(p.accounts[0]!.tokens.refreshToken).toBe("a2");
  });

  it("with keepNewer keeps the pool's newer tokens", () => {
    const p = pool();
    const r = upsertAccount(
      p,
      {
        accountId: "acct-A",
        email: "alice@example.com",
        plan: "plus",
        tokens: tok("a0", "2025-01-01T00:00:00Z"),
      },
      now,
      { keepNewer: true },
    );
    expect(r.tokensTaken).toBe(false);
    expect(p.accounts[0]!.tokens.refreshToken).toBe("a1");
  });
});

describe("resolveAccount", () => {
  it("takes a number, our id, an email, a workspace id; refuses ambiguity and unknowns", () => {
    const p = pool();
    expect(resolveAccount(p, "2").email).toBe("carol@example.com");
    expect(resolveAccount(p, p.accounts[2]!.id).accountId).toBe("acct-B");
    expect(resolveAccount(p, "CAROL@example.com").accountId).toBe("acct-A");
    expect(resolveAccount(p, "acct-B").email).toBe("alice@example.com");
    expect(() => resolveAccount(p, "alice@example.com")).toThrow(UsageError);
    expect(() => resolveAccount(p, "acct-A")).toThrow(/matches several accounts/);
    expect(() => resolveAccount(p, "4")).toThrow(AccountNotFoundError);
    expect(() => resolveAccount(p, "nobody@example.com")).toThrow(AccountNotFoundError);
  });
});

describe("adoptTokens", () => {
  it("adopts only newer tokens, and nothing when two seats cannot be told apart", () => {
    const p = pool();
    expect(
      adoptTokens(p, "acct-A", "alice@example.com", tok("a1", "2026-01-01T00:00:00Z")),
    ).toBeNull();
    expect(
      adoptTokens(p, "acct-A", "alice@example.com", tok("a0", "2025-01-01T00:00:00Z")),
    ).toBeNull();
    expect(adoptTokens(p, "acct-A", null, tok("x", "2027-01-01T00:00:00Z"))).toBeNull();
    const adopted = adoptTokens(
      p,
      "acct-A",
      "ALICE@example.com",
      tok("a2", "2026-03-01T00:00:00Z"),
    );
    expect(adopted?.tokens.refreshToken).toBe("a2");
    expect(adoptTokens(p, "acct-B", null, tok("b2", "2026-03-01T00:00:00Z"))?.email).toBe(
      "alice@example.com",
    );
  });

  it("judges newer by last refresh, then access-token expiry", () => {
    const base = { ...tok("r", null), accessTokenExpiresAt: "2026-01-01T01:00:00Z" };
    expect(
      isNewerTokens(base, {
        ...base,
        refreshToken: "r2",
        accessTokenExpiresAt: "2026-01-01T02:00:00Z",
      }),
    ).toBe(true);
    expect(isNewerTokens(base, { ...base })).toBe(false);
  });
});
