/**
 * The pool as its rows make it (docs/team-pool.md "Whole-pool transactions"): every account
 * (tokens opened under their generation), the default account and the session leases, their ages
 * by the database clock turned into times on this machine's clock (rows.ts), validated by the same
 * schema as the file. The counterpart of pg-write.ts, and apart from pg-store.ts because the
 * refresh protocol (pg-refresh.ts) reads the leases inside its own transaction too.
 */
import { POOL_VERSION, PoolSchema, type LiveSession, type Pool } from "../schema.js";
import { sql, type Queryable, type Tx } from "./client.js";
import type { TokenCipher } from "./crypto.js";
import { accountOf, sessionOf, type AccountRow, type SessionRow } from "./rows.js";

/** A pool as read, with what a write compares against: each account's token generation. */
export interface Loaded {
  pool: Pool;
  generations: Map<string, number>;
  version: number;
}

/**
 * Every session row as a live-session entry (expired ones too, until the next transaction prunes
 * them: `status` shows a lapsed lease as such), in the caller's transaction.
 */
export async function loadSessions(tx: Queryable, nowMs: number): Promise<LiveSession[]> {
  const rows = await tx.rows<SessionRow>(sql`
    select host, pid, account, session_id, phase, holds_refresh_token,
           extract(epoch from clock_timestamp() - started_at)::float8 * 1000 as started_age_ms,
           extract(epoch from clock_timestamp() - heartbeat_at)::float8 * 1000 as heartbeat_age_ms,
           extract(epoch from expires_at - clock_timestamp())::float8 * 1000 as expires_in_ms
      from codex_pool.sessions order by started_at, host, pid`);
  return rows.map((row) => sessionOf(row, nowMs));
}

/** Everything, as one pool (inside the caller's transaction); `nowMs` is this machine's clock. */
export async function loadPool(tx: Tx, cipher: TokenCipher, nowMs: number): Promise<Loaded> {
  const [poolRow] = await tx.rows<{ version: string; default_account: string | null }>(sql`
    select version::text as version, default_account from codex_pool.pool`);
  const accounts = await tx.rows<AccountRow>(sql`
    select id, chatgpt_account_id, email, doc, token_generation::float8 as gen,
           access_token, refresh_token, id_token, access_expires_at, last_refresh_at
      from codex_pool.accounts order by position, id`);
  const pool = PoolSchema.parse({
    version: POOL_VERSION,
    defaultAccount: poolRow?.default_account ?? null,
    accounts: accounts.map((row) => accountOf(cipher, row)),
    sessions: await loadSessions(tx, nowMs),
  });
  return {
    pool,
    generations: new Map(accounts.map((a) => [a.id, a.gen])),
    version: Number(poolRow?.version ?? 0),
  };
}
