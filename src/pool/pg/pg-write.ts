/**
 * The rows a pool transaction writes (docs/team-pool.md): only what differs between the pool as
 * read and the pool as changed — accounts added, removed or changed (tokens sealed under the next
 * token generation, compared and set on the generation read), their order, the default account and
 * the session leases (renewed on the database clock) — with the audit rows that say what happened.
 */
import { LEASE_TTL_MS } from "../live-sessions.js";
import type { LiveSession, Pool } from "../schema.js";
import { jsonb, sql, type Tx } from "./client.js";
import type { TokenCipher } from "./crypto.js";
import { docOf, sameTokenFields, sealTokens, sessionKey, type AuditEvent } from "./rows.js";

/**
 * A session's lease, as its holder wrote it (expiry − heartbeat), becomes the same span on the
 * database clock; bounded so a bad clock on one machine cannot hold an account for ever.
 */
function leaseTtlMs(s: LiveSession): number {
  if (s.expiresAt === undefined) return LEASE_TTL_MS;
  const span = Date.parse(s.expiresAt) - Date.parse(s.heartbeatAt);
  return Math.min(Math.max(span, 1000), 3600_000);
}

/** Writes what differs between `before` and `after`; returns whether anything did. */
export async function writeChanges(
  tx: Tx,
  cipher: TokenCipher,
  before: Pool,
  after: Pool,
  generations: Map<string, number>,
  events: AuditEvent[],
): Promise<boolean> {
  let changed = false;
  const firstEvent = events.length;
  const old = new Map(before.accounts.map((a) => [a.id, a]));
  const kept = new Set(after.accounts.map((a) => a.id));
  for (const a of before.accounts) {
    if (kept.has(a.id)) continue;
    await tx.count(sql`delete from codex_pool.accounts where id = ${a.id}`);
    events.push({ account: a.id, action: "remove" });
    changed = true;
  }
  for (const a of after.accounts) {
    const b = old.get(a.id);
    if (b === undefined) {
      const sealed = sealTokens(cipher, a.id, 1, a.tokens);
      await tx.count(sql`
        insert into codex_pool.accounts
          (id, position, chatgpt_account_id, email, doc, token_generation, access_token,
           refresh_token, id_token, access_expires_at, last_refresh_at)
        values (${a.id}, 0, ${a.accountId}, ${a.email}, ${jsonb(docOf(a))}::jsonb, 1,
                ${sealed.access_token}, ${sealed.refresh_token}, ${sealed.id_token},
                ${sealed.access_expires_at}, ${sealed.last_refresh_at})`);
      events.push({ account: a.id, action: "login", detail: { generation: 1 } });
      changed = true;
      continue;
    }
    if (!sameTokenFields(a.tokens, b.tokens)) {
      const gen = (generations.get(a.id) ?? 0) + 1;
      const sealed = sealTokens(cipher, a.id, gen, a.tokens);
      const rows = await tx.count(sql`
        update codex_pool.accounts set token_generation = ${gen},
          access_token = ${sealed.access_token}, refresh_token = ${sealed.refresh_token},
          id_token = ${sealed.id_token}, access_expires_at = ${sealed.access_expires_at},
          last_refresh_at = ${sealed.last_refresh_at}, updated_at = clock_timestamp()
        where id = ${a.id} and token_generation = ${gen - 1}`);
      // Impossible under the pool lock; a lost row must fail the whole transaction, not half.
      if (rows !== 1) throw new Error(`account ${a.id} changed under the pool lock`);
      const login = b.state.kind !== "ok" && a.state.kind === "ok";
      events.push({
        account: a.id,
        action: login ? "login" : "refresh",
        detail: { generation: gen },
      });
      changed = true;
    }
    const docA = JSON.stringify(docOf(a));
    if (docA !== JSON.stringify(docOf(b)) || a.accountId !== b.accountId || a.email !== b.email) {
      await tx.count(sql`
        update codex_pool.accounts set doc = ${jsonb(docOf(a))}::jsonb,
          chatgpt_account_id = ${a.accountId}, email = ${a.email}, updated_at = clock_timestamp()
        where id = ${a.id}`);
      if (a.state.kind !== b.state.kind && a.state.kind !== "ok") {
        events.push({ account: a.id, action: a.state.kind, detail: { reason: a.state.reason } });
      }
      changed = true;
    }
  }
  const order = after.accounts.map((a) => a.id);
  const oldOrder = before.accounts.map((a) => a.id).filter((id) => kept.has(id));
  if (order.join("\u0000") !== oldOrder.join("\u0000")) {
    await tx.count(sql`
      update codex_pool.accounts a set position = v.ord
        from unnest(${order}::text[]) with ordinality as v(id, ord)
       where a.id = v.id`);
    changed = true;
  }
  if (after.defaultAccount !== before.defaultAccount) {
    await tx.count(sql`update codex_pool.pool set default_account = ${after.defaultAccount}`);
    changed = true;
  }
  // A session's release is told before what happened to accounts (a removal), its lease after.
  const releases: AuditEvent[] = [];
  const leases: AuditEvent[] = [];
  const sessions = await writeSessions(tx, before, after, releases, leases);
  events.splice(firstEvent, 0, ...releases);
  events.push(...leases);
  return sessions || changed;
}

async function writeSessions(
  tx: Tx,
  before: Pool,
  after: Pool,
  releases: AuditEvent[],
  leases: AuditEvent[],
): Promise<boolean> {
  let changed = false;
  const old = new Map(before.sessions.map((s) => [sessionKey(s), s]));
  const kept = new Set(after.sessions.map(sessionKey));
  for (const s of before.sessions) {
    if (kept.has(sessionKey(s))) continue;
    await tx.count(sql`delete from codex_pool.sessions where host = ${s.host} and pid = ${s.pid}`);
    releases.push({
      account: s.account,
      action: "release",
      detail: { host: s.host, pid: s.pid },
    });
    changed = true;
  }
  for (const s of after.sessions) {
    const b = old.get(sessionKey(s));
    if (b !== undefined && JSON.stringify(b) === JSON.stringify(s)) continue;
    // The lease is renewed by the database clock: heartbeat now, expiry now + its TTL.
    const ttl = `${leaseTtlMs(s)} milliseconds`;
    const holds = s.holdsRefreshToken !== false;
    await tx.count(sql`
      insert into codex_pool.sessions
        (host, pid, account, session_id, phase, started_at, heartbeat_at, expires_at,
         holds_refresh_token)
      values (${s.host}, ${s.pid}, ${s.account}, ${s.sessionId}, ${s.phase}, clock_timestamp(),
              clock_timestamp(), clock_timestamp() + ${ttl}::interval, ${holds})
      on conflict (host, pid) do update set account = excluded.account,
        session_id = excluded.session_id, phase = excluded.phase,
        heartbeat_at = excluded.heartbeat_at, expires_at = excluded.expires_at,
        holds_refresh_token = excluded.holds_refresh_token`);
    if (b === undefined || b.account !== s.account) {
      leases.push({
        account: s.account,
        action: "lease",
        detail: { host: s.host, pid: s.pid, from: b?.account ?? null },
      });
    }
    changed = true;
  }
  return changed;
}
