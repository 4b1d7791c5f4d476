/**
 * The pool as rows (docs/team-pool.md "Schema"): an account row holds its identity, its three
 * tokens encrypted under their token generation, the tokens' times, and everything else of the
 * account as one JSON document (so fields other parts of codex-pool add to an account need no
 * migration). Live sessions are rows whose times are the database's: their ages (and the time
 * left on their lease) are turned into times on this machine's clock, so code that judges a lease
 * by this machine's clock stays right whatever the skew between machines.
 */
import { DatabaseKeyError, type TokenCipher, type TokenColumn } from "./crypto.js";
import type { Account, LiveSession, Tokens } from "../schema.js";

export interface AccountRow {
  id: string;
  chatgpt_account_id: string;
  email: string;
  doc: Record<string, unknown>;
  gen: number;
  access_token: Uint8Array;
  refresh_token: Uint8Array;
  id_token: Uint8Array;
  access_expires_at: Date | null;
  last_refresh_at: Date | null;
}

export interface SessionRow {
  host: string;
  pid: number;
  account: string;
  session_id: string | null;
  phase: string;
  holds_refresh_token: boolean;
  started_age_ms: number;
  heartbeat_age_ms: number;
  /** How long until the lease lapses by the database clock (negative: it has). */
  expires_in_ms: number;
}

/** An account's fields other than identity and tokens: its JSON document. */
export function docOf(account: Account): Record<string, unknown> {
  const doc: Record<string, unknown> = { ...account };
  for (const key of ["id", "accountId", "email", "tokens"]) delete doc[key];
  return doc;
}

export interface SealedTokens {
  access_token: Buffer;
  refresh_token: Buffer;
  id_token: Buffer;
  access_expires_at: Date | null;
  last_refresh_at: Date | null;
}

const COLUMNS: [TokenColumn, keyof Tokens][] = [
  ["access_token", "accessToken"],
  ["refresh_token", "refreshToken"],
  ["id_token", "idToken"],
];

export function sealTokens(
  cipher: TokenCipher,
  account: string,
  generation: number,
  tokens: Tokens,
): SealedTokens {
  const seal = (column: TokenColumn, value: string): Buffer =>
    cipher.seal(value, { account, column, generation });
  return {
    access_token: seal("access_token", tokens.accessToken),
    refresh_token: seal("refresh_token", tokens.refreshToken),
    id_token: seal("id_token", tokens.idToken),
    access_expires_at:
      tokens.accessTokenExpiresAt === null ? null : new Date(tokens.accessTokenExpiresAt),
    last_refresh_at: tokens.lastRefreshAt === null ? null : new Date(tokens.lastRefreshAt),
  };
}

export function openTokens(cipher: TokenCipher, row: AccountRow): Tokens {
  const out: Partial<Record<keyof Tokens, string>> = {};
  for (const [column, field] of COLUMNS) {
    const plain = cipher.open(row[column], { account: row.id, column, generation: row.gen });
    if (plain === null) {
      throw new DatabaseKeyError(
        `the ${column} of account ${row.id} (generation ${row.gen}) fails authentication: the database key is not the one it was written with, or the row was altered; run codex-pool doctor`,
      );
    }
    out[field] = plain;
  }
  return {
    accessToken: out.accessToken ?? "",
    refreshToken: out.refreshToken ?? "",
    idToken: out.idToken ?? "",
    accessTokenExpiresAt: row.access_expires_at?.toISOString() ?? null,
    lastRefreshAt: row.last_refresh_at?.toISOString() ?? null,
  };
}

/** The account as the pool schema has it (validated by the caller). */
export function accountOf(cipher: TokenCipher, row: AccountRow): Record<string, unknown> {
  return {
    ...row.doc,
    id: row.id,
    accountId: row.chatgpt_account_id,
    email: row.email,
    tokens: openTokens(cipher, row),
  };
}

export function sessionOf(row: SessionRow, nowMs: number): LiveSession {
  return {
    pid: row.pid,
    host: row.host,
    account: row.account,
    sessionId: row.session_id,
    phase: row.phase as LiveSession["phase"],
    startedAt: new Date(nowMs - row.started_age_ms).toISOString(),
    heartbeatAt: new Date(nowMs - row.heartbeat_age_ms).toISOString(),
    expiresAt: new Date(nowMs + row.expires_in_ms).toISOString(),
    holdsRefreshToken: row.holds_refresh_token,
  };
}

export function sessionKey(s: Pick<LiveSession, "host" | "pid">): string {
  return `${s.host}\u0000${s.pid}`;
}

export function sameTokenFields(a: Tokens, b: Tokens): boolean {
  return (
    a.accessToken === b.accessToken &&
    a.refreshToken === b.refreshToken &&
    a.idToken === b.idToken &&
    a.accessTokenExpiresAt === b.accessTokenExpiresAt &&
    a.lastRefreshAt === b.lastRefreshAt
  );
}

/** One audit row (docs/team-pool.md "Audit"): never a token, only what happened to which account. */
export interface AuditEvent {
  account: string | null;
  action:
    | "login"
    | "refresh"
    | "needs-login"
    | "in-doubt"
    | "remove"
    | "lease"
    | "release"
    | "push"
    | "journal-replay";
  detail?: Record<string, string | number | boolean | null>;
}
