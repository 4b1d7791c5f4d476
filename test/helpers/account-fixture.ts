/**
 * One way to make a pool account for unit tests: a valid row (parsed by the pool's own schema, so
 * defaults apply as on disk) with placeholder tokens, numbered so every call is a new account.
 */
import { AccountSchema, type Account, type QuotaSnapshot } from "../../src/pool/schema.js";

let made = 0;

export interface AccountFixture extends Partial<Account> {
  /** The account's quota snapshot (default: none observed yet). */
  readonly quota?: QuotaSnapshot | null;
  /** When it was added (default: the epoch). */
  readonly now?: Date;
}

/** A pool account `n` (acc_fixture000n, acct-n, user-n@example.com) with `extra` on top. */
export function makeAccount(fixture: AccountFixture = {}): Account {
  made += 1;
  const { now = new Date(0), quota = null, ...extra } = fixture;
  return AccountSchema.parse({
    id: `acc_fixture${String(made).padStart(4, "0")}`,
    accountId: `acct-${made}`,
    email: `user-${made}@example.com`,
    plan: "plus",
    label: null,
    tokens: {
      accessToken: "a",
      refreshToken: "r",
      idToken: "",
      accessTokenExpiresAt: null,
      lastRefreshAt: null,
    },
    addedAt: now.toISOString(),
    lastUsedAt: null,
    state: { kind: "ok" },
    quota,
    ...extra,
  });
}

/**
 * The pool account `id` (acc_…), signed in as `chatgpt-<id>` with `<id without "acc_">@example.com`
 * and placeholder tokens that never expire, added a day before `now`; `fixture` on top.
 */
export function accountWithId(id: string, now: number, fixture: AccountFixture = {}): Account {
  return makeAccount({
    id,
    accountId: `chatgpt-${id}`,
    email: `${id.slice(4)}@example.com`,
    tokens: {
      accessToken: "at",
      refreshToken: `rt-${id}`,
      idToken: "",
      accessTokenExpiresAt: null,
      lastRefreshAt: null,
    },
    now: new Date(now - 86_400_000),
    ...fixture,
  });
}
