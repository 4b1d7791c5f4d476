/**
 * Account identity inside the pool: adding or updating a signed-in account, resolving the
 * `<n|email|id>` selectors of the command line, and adopting tokens that codex rotated itself.
 */
import { randomBytes } from "node:crypto";
import { AccountNotFoundError, UsageError } from "../platform/errors.js";
import { accountName } from "./account-name.js";
import type { Account, Pool, Tokens } from "./schema.js";

export interface SignedInAccount {
  accountId: string;
  email: string;
  plan: string | null;
  tokens: Tokens;
}

export function newAccountId(): string {
  return "acc_" + randomBytes(6).toString("hex");
}

export interface UpsertOptions {
  /**
   * Keep the pool's tokens when they are newer than the incoming ones (import of an old
   * auth.json): a rotated refresh token must never be replaced by an older, spent one.
   */
  keepNewer?: boolean;
}

export interface UpsertResult {
  account: Account;
  created: boolean;
  /** False when `keepNewer` kept the pool's newer tokens instead of the incoming ones. */
  tokensTaken: boolean;
}

/**
 * Adds the account, or updates its row when the same ChatGPT account id and email sign in again.
 * Two workspaces of one email are two accounts; one workspace under two emails (two seats) too.
 */
export function upsertAccount(
  pool: Pool,
  signedIn: SignedInAccount,
  now: Date,
  options: UpsertOptions = {},
): UpsertResult {
  const email = signedIn.email.trim().toLowerCase();
  const existing = pool.accounts.find(
    (a) => a.accountId === signedIn.accountId && a.email === email,
  );
  if (existing) {
    existing.plan = signedIn.plan ?? existing.plan;
    if (options.keepNewer === true && isNewerTokens(signedIn.tokens, existing.tokens)) {
      return { account: existing, created: false, tokensTaken: false };
    }
    existing.tokens = signedIn.tokens;
    existing.state = { kind: "ok" };
    return { account: existing, created: false, tokensTaken: true };
  }
  const account: Account = {
    id: newAccountId(),
    accountId: signedIn.accountId,
    email,
    plan: signedIn.plan,
    label: null,
    tokens: signedIn.tokens,
    addedAt: now.toISOString(),
    lastUsedAt: null,
    state: { kind: "ok" },
    quota: null,
    probeError: null,
    floors: {},
  };
  pool.accounts.push(account);
  if (pool.defaultAccount === null) pool.defaultAccount = account.id;
  return { account, created: true, tokensTaken: true };
}

/** 1-based position of an account in the pool, as `list` shows it. */
export function accountIndex(pool: Pool, id: string): number {
  return pool.accounts.findIndex((a) => a.id === id) + 1;
}

/** The account whose pool id is `id`; AccountNotFoundError when it is not (or no longer) there. */
export function accountById(pool: Pool, id: string): Account {
  const account = pool.accounts.find((a) => a.id === id);
  if (!account) {
    throw new AccountNotFoundError(`no account ${id} in the pool (see codex-pool list)`);
  }
  return account;
}

/** Resolves `2`, `alice@example.com`, `acc_…`, a ChatGPT account id or a label to one account. */
export function resolveAccount(pool: Pool, selector: string): Account {
  const s = selector.trim();
  if (s === "")
    throw new UsageError("name an account: its number, email or id (see codex-pool list)");
  if (/^\d+$/.test(s)) {
    const account = pool.accounts[Number(s) - 1];
    if (!account) {
      throw new AccountNotFoundError(
        pool.accounts.length === 0
          ? `no account ${s}: the pool is empty; add one with codex-pool login or codex-pool import`
          : `no account ${s}: the pool has accounts 1 to ${pool.accounts.length} (see codex-pool list)`,
      );
    }
    return account;
  }
  const byId = pool.accounts.find((a) => a.id === s);
  if (byId) return byId;
  const lower = s.toLowerCase();
  // One workspace may be in the pool under two emails (two seats), one email under two workspaces.
  for (const matches of [
    pool.accounts.filter((a) => a.accountId === s),
    pool.accounts.filter((a) => a.email === lower || a.label === s),
  ]) {
    if (matches.length === 1 && matches[0]) return matches[0];
    if (matches.length > 1) {
      const choices = matches.map((a) => `${accountName(pool, a)} (${a.accountId})`).join(", ");
      throw new UsageError(`"${s}" matches several accounts: ${choices}; use the number or id`);
    }
  }
  throw new AccountNotFoundError(`no account matches "${s}" (see codex-pool list)`);
}

function timeOf(iso: string | null): number {
  return iso === null ? 0 : Date.parse(iso);
}

/**
 * True when `candidate` tokens are newer than the pool's copy: a different refresh token learnt
 * later (by last refresh, else by access-token expiry). Equal tokens are not newer.
 */
export function isNewerTokens(current: Tokens, candidate: Tokens): boolean {
  if (
    candidate.refreshToken === current.refreshToken &&
    candidate.accessToken === current.accessToken
  ) {
    return false;
  }
  const byRefresh = timeOf(candidate.lastRefreshAt) - timeOf(current.lastRefreshAt);
  if (byRefresh !== 0) return byRefresh > 0;
  return timeOf(candidate.accessTokenExpiresAt) > timeOf(current.accessTokenExpiresAt);
}

/**
 * Takes tokens that codex (or another tool) wrote for an account of the pool, when they are newer
 * than ours: a rotated refresh token must never be thrown away. Returns the account it updated.
 */
export function adoptTokens(
  pool: Pool,
  accountId: string,
  email: string | null,
  tokens: Tokens,
): Account | null {
  const wanted = email?.trim().toLowerCase() ?? null;
  const matches = pool.accounts.filter(
    (a) => a.accountId === accountId && (wanted === null || a.email === wanted),
  );
  // Without an email, two seats of one workspace cannot be told apart: adopt nothing rather than
  // give one seat the other's tokens.
  const account = matches.length === 1 ? matches[0] : undefined;
  if (!account || !isNewerTokens(account.tokens, tokens)) return null;
  account.tokens = tokens;
  // Newer tokens than the pool's settle a dead login or a refresh in doubt alike.
  if (account.state.kind !== "ok") account.state = { kind: "ok" };
  return account;
}
