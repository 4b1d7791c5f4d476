/**
 * The statements of the refresh protocol (docs/team-pool.md "Refresh protocol"), one holder's:
 * the look at an account with its claim (step 1), the conditional upsert that takes a claim (2),
 * a waiter's poll, the pre-send check and intent mark under the pool lock (4), the release, and the
 * marks a claim leaves on its account (needs-login after a definitive refusal, in doubt in step 7).
 * Each is one statement or one short transaction, atomic on its own. Apart from pg-refresh.ts,
 * which holds the protocol's order (when each runs, what its answer leads to, the send, the journal
 * and the commit): the SQL can be read here against the schema without the control flow around it.
 */
import type { Clock } from "../../platform/clock.js";
import { AccountNotFoundError } from "../../platform/errors.js";
import { accountNameAt } from "../account-name.js";
import {
  refreshTokenHeld,
  refreshTokenHolders,
  type RefreshTokenHeldError,
} from "../live-sessions.js";
import { AccountSchema, type Account } from "../schema.js";
import { jsonb, sql, type Statement } from "./client.js";
import { guarded } from "./db.js";
import { loadSessions } from "./pg-read.js";
import type { PgPoolStore } from "./pg-store.js";
import { accountOf, type AccountRow } from "./rows.js";

/** An account as step 1 sees it: its token generation and the claim on it, if any. */
export interface Inspection {
  account: Account;
  gen: number;
  claim: { fence: string; holder: string; expired: boolean; intent: boolean } | null;
}

type ClaimRow = AccountRow & {
  fence: string | null;
  holder: string | null;
  claim_expired: boolean | null;
  claim_intent: boolean | null;
};

/** Deletes the claim with `fence` (a later claim on the account is someone else's and stays). */
export function claimDeletion(id: string, fence: string): Statement {
  return sql`delete from codex_pool.refresh_claims where account = ${id} and fence = ${fence}::int8`;
}

export interface RefreshClaimsOptions {
  readonly store: PgPoolStore;
  readonly clock: Clock;
  /** A claim's life by the database clock; the pre-send statement renews it once. */
  readonly ttlMs: number;
  /** Who claims: written into the claim row, so a waiter can name it. */
  readonly holder: string;
}

export class RefreshClaims {
  private readonly store: PgPoolStore;
  private readonly clock: Clock;
  private readonly ttl: string;
  private readonly holder: string;

  constructor(options: RefreshClaimsOptions) {
    this.store = options.store;
    this.clock = options.clock;
    this.ttl = `${options.ttlMs} milliseconds`;
    this.holder = options.holder;
  }

  async inspect(id: string): Promise<Inspection> {
    const { db, cipher } = await this.store.ready();
    const [row] = await guarded(this.store.url, () =>
      db.rows<ClaimRow>(sql`
      select a.id, a.chatgpt_account_id, a.email, a.doc, a.token_generation::float8 as gen,
             a.access_token, a.refresh_token, a.id_token, a.access_expires_at, a.last_refresh_at,
             c.fence::text as fence, c.holder,
             c.expires_at <= clock_timestamp() as claim_expired,
             c.intent_sent_at is not null as claim_intent
        from codex_pool.accounts a
        left join codex_pool.refresh_claims c on c.account = a.id
       where a.id = ${id}`),
    );
    if (!row) throw new AccountNotFoundError(`no account ${id} in the pool (see codex-pool list)`);
    return {
      account: AccountSchema.parse(accountOf(cipher, row)),
      gen: row.gen,
      claim:
        row.fence === null
          ? null
          : {
              fence: row.fence,
              holder: row.holder ?? "?",
              expired: row.claim_expired === true,
              intent: row.claim_intent === true,
            },
    };
  }

  /** Step 2: wins only over no claim, or an expired one without intent. Returns our fence. */
  async take(id: string, gen: number): Promise<string | null> {
    const { db } = await this.store.ready();
    const rows = await guarded(this.store.url, () =>
      db.rows<{ fence: string }>(sql`
      insert into codex_pool.refresh_claims
        (account, fence, holder, generation, claimed_at, expires_at, intent_sent_at)
      values (${id}, nextval('codex_pool.fence'), ${this.holder}, ${gen}, clock_timestamp(),
              clock_timestamp() + ${this.ttl}::interval, null)
      on conflict (account) do update set fence = excluded.fence, holder = excluded.holder,
        generation = excluded.generation, claimed_at = excluded.claimed_at,
        expires_at = excluded.expires_at, intent_sent_at = null
      where codex_pool.refresh_claims.expires_at <= clock_timestamp()
        and codex_pool.refresh_claims.intent_sent_at is null
      returning fence::text as fence`),
    );
    return rows[0]?.fence ?? null;
  }

  /** A waiter's poll: whether the claim it saw is gone, expired or replaced, or the tokens moved. */
  async moved(id: string, seen: Inspection): Promise<boolean> {
    const { db } = await this.store.ready();
    const [row] = await guarded(this.store.url, () =>
      db.rows<{ gen: number; fence: string | null; expired: boolean | null }>(sql`
      select a.token_generation::float8 as gen, c.fence::text as fence,
             c.expires_at <= clock_timestamp() as expired
        from codex_pool.accounts a left join codex_pool.refresh_claims c on c.account = a.id
       where a.id = ${id}`),
    );
    return !row || row.gen !== seen.gen || row.fence !== seen.claim?.fence || row.expired === true;
  }

  /**
   * Step 4: no live session elsewhere holds the refresh token (its codex's, in relaunch mode:
   * docs/decisions.md decision 3), and the claim is still ours and unexpired → extend it and mark
   * intent. Under the pool lock, which every session write takes, so no session starts holding
   * the token between the check and the mark.
   */
  async markIntent(id: string, fence: string): Promise<"marked" | "lost" | RefreshTokenHeldError> {
    const me = { host: this.store.identity.host, pid: this.store.identity.pid };
    return this.store.withPoolLock(async (tx) => {
      const sessions = await loadSessions(tx, this.clock.now());
      const holders = refreshTokenHolders(sessions, id, this.clock.now(), me);
      if (holders.length > 0) {
        const order = await tx.rows<{ id: string; email: string; label: string | null }>(sql`
          select id, email, doc ->> 'label' as label from codex_pool.accounts
           order by position, id`);
        const at = order.findIndex((a) => a.id === id);
        const row = order[at] ?? { email: id, label: null };
        return refreshTokenHeld(accountNameAt(at + 1, row), holders);
      }
      const rows = await tx.count(sql`
        update codex_pool.refresh_claims
           set intent_sent_at = clock_timestamp(), expires_at = clock_timestamp() + ${this.ttl}::interval
         where account = ${id} and fence = ${fence}::int8 and expires_at > clock_timestamp()`);
      return rows === 1 ? "marked" : "lost";
    });
  }

  async release(id: string, fence: string): Promise<void> {
    const { db } = await this.store.ready();
    await guarded(this.store.url, () => db.count(claimDeletion(id, fence)));
  }

  /**
   * A definitive refusal: the account needs a login if its tokens are still the spent ones (its
   * generation is `seen`'s); the claim is released either way. Returns whether it was marked.
   */
  async markNeedsLogin(seen: Inspection, fence: string, reason: string): Promise<boolean> {
    const since = new Date(this.clock.now()).toISOString();
    return this.store.withPoolLock(async (tx) => {
      await tx.count(claimDeletion(seen.account.id, fence));
      const rows = await tx.count(sql`
        update codex_pool.accounts
           set doc = jsonb_set(doc, '{state}', ${jsonb({ kind: "needs-login", reason, since })}::jsonb)
         where id = ${seen.account.id} and token_generation = ${seen.gen}`);
      if (rows === 1) {
        await this.store.finish(tx, [
          { account: seen.account.id, action: "needs-login", detail: { reason } },
        ]);
      }
      return rows === 1;
    });
  }

  /**
   * Step 7: an expired claim with intent (or our own unanswered send, `mine`) marks the account in
   * doubt, unless its generation moved since the claim was taken.
   */
  async markInDoubt(id: string, fence: string, reason: string, mine = false): Promise<void> {
    const since = new Date(this.clock.now()).toISOString();
    await this.store.withPoolLock(async (tx) => {
      const [claim] = await tx.rows<{ generation: number }>(sql`
        delete from codex_pool.refresh_claims
         where account = ${id} and fence = ${fence}::int8
           and (${mine}::boolean or expires_at <= clock_timestamp())
        returning generation::float8 as generation`);
      if (!claim) return;
      const rows = await tx.count(sql`
        update codex_pool.accounts
           set doc = jsonb_set(doc, '{state}', ${jsonb({ kind: "in-doubt", reason, since })}::jsonb)
         where id = ${id} and token_generation = ${claim.generation}
           and doc -> 'state' ->> 'kind' = 'ok'`);
      if (rows === 1) {
        await this.store.finish(tx, [
          { account: id, action: "in-doubt", detail: { reason, fence } },
        ]);
      }
    });
  }
}
