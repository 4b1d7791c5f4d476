/**
 * Refresh ownership on the shared pool: the claim protocol of docs/team-pool.md ("Refresh
 * protocol" and its failure table). In short, per account:
 * 1. read the account and its token generation g0; stop unless it is usable and still needs it;
 * 2. claim: one conditional upsert that wins only when there is no claim or it expired by the
 *    database clock without intent, returning a fence from a sequence; a loser waits (short,
 *    bounded poll) for the generation to move and adopts the result, never refreshing on its own;
 * 3. re-read under the claim; a moved generation is adopted;
 * 4. pre-send: under the pool lock, refuse when a live session on another process or machine
 *    holds the account's refresh token (RefreshTokenHeldError, the claim released); else one
 *    statement that succeeds only while the claim is still ours and unexpired, extending it and
 *    marking intent; zero rows → the claim was lost, back to 1;
 * 5. one POST with a timeout shorter than the claim (the caller's abort no longer applies: an
 *    answer must be committed);
 * 6. journal the new tokens locally (fsync), then one transaction: compare-and-set on g0, delete
 *    our claim, audit, bump the version, notify; then drop the journal entry.
 * A claim that expired with intent marks the account `in doubt`; its holder's own late commit or
 * its journal (still compare-and-set on g0) settles it, else a new login.
 */
import { randomBytes } from "node:crypto";
import { systemClock, type Clock } from "../../platform/clock.js";
import { AccountNotFoundError, LockTimeoutError, NeedsLoginError } from "../../platform/errors.js";
import {
  sameTokens,
  type RefreshCoordinator,
  type RefreshOutcome,
  type RefreshPlan,
} from "../refresh-coordinator.js";
import { AccountSchema, type Account } from "../schema.js";
import { accountNameAt } from "../account-name.js";
import {
  refreshTokenHeld,
  refreshTokenHolders,
  type RefreshTokenHeldError,
} from "../live-sessions.js";
import { jsonb, sql } from "./client.js";
import { commitRotated } from "./commit-tokens.js";
import { guarded } from "./db.js";
import { removeJournal, writeJournal } from "./journal.js";
import { loadSessions } from "./pg-read.js";
import type { PgPoolStore } from "./pg-store.js";
import { accountOf, type AccountRow } from "./rows.js";

/** Where a holder is in the protocol; tests stop or kill a holder at each (onStep). */
export type ClaimStep = "claimed" | "reread" | "intent" | "answered" | "journaled" | "committed";

export interface PgRefreshOptions {
  store: PgPoolStore;
  clock?: Clock;
  /** A claim's life by the database clock; the pre-send statement renews it once. */
  claimTtlMs?: number;
  /** The token request's bound: shorter than the claim, so an answer arrives while it holds. */
  sendTimeoutMs?: number;
  /** How long a waiter waits for another holder before giving up (it never refreshes itself). */
  waitMs?: number;
  /** A waiter's poll period (docs/team-pool.md: the claim row is the truth, notifications a cue). */
  pollMs?: number;
  /** Called as the holder reaches each step (for tests and the bench). */
  onStep?: (step: ClaimStep, account: string) => void | Promise<void>;
}

interface Inspection {
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

export class PgRefreshCoordinator implements RefreshCoordinator {
  private readonly store: PgPoolStore;
  private readonly clock: Clock;
  private readonly ttlMs: number;
  private readonly sendTimeoutMs: number;
  private readonly waitMs: number;
  private readonly pollMs: number;
  private readonly onStep: NonNullable<PgRefreshOptions["onStep"]>;
  private readonly holder: string;

  constructor(options: PgRefreshOptions) {
    this.store = options.store;
    this.clock = options.clock ?? systemClock;
    this.ttlMs = options.claimTtlMs ?? 30_000;
    this.sendTimeoutMs = options.sendTimeoutMs ?? Math.floor(this.ttlMs / 2);
    if (this.sendTimeoutMs >= this.ttlMs) {
      throw new RangeError("the refresh request's timeout must be shorter than the claim");
    }
    this.waitMs = options.waitMs ?? 60_000;
    this.pollMs = options.pollMs ?? 100;
    this.onStep = options.onStep ?? (() => undefined);
    const { host, pid } = this.store.identity;
    this.holder = `${host}:${pid}:${randomBytes(4).toString("hex")}`;
  }

  async run(seen: Account, plan: RefreshPlan, signal?: AbortSignal): Promise<RefreshOutcome> {
    const deadline = this.clock.now() + this.waitMs;
    for (;;) {
      signal?.throwIfAborted();
      const now = await this.inspect(seen.id);
      const { account, claim } = now;
      if (account.state.kind === "needs-login") {
        return { kind: "needs-login", reason: account.state.reason, replaced: null };
      }
      if (account.state.kind === "in-doubt") return { kind: "in-doubt", account };
      if (!sameTokens(account.tokens, seen.tokens) || !plan.needed(account)) {
        return { kind: "current", account };
      }
      if (claim !== null && claim.expired && claim.intent) {
        await this.markInDoubt(
          account.id,
          claim.fence,
          "the holder of its refresh stopped after sending",
        );
        continue;
      }
      if (claim !== null && !claim.expired) {
        await this.waitForHolder(account.id, now, deadline, signal);
        continue;
      }
      const fence = await this.claim(account.id, now.gen);
      if (fence === null) continue;
      const outcome = await this.hold(now, fence, plan);
      if (outcome !== "lost") return outcome;
    }
  }

  private async inspect(id: string): Promise<Inspection> {
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
  private async claim(id: string, gen: number): Promise<string | null> {
    const { db } = await this.store.ready();
    const ttl = `${this.ttlMs} milliseconds`;
    const rows = await guarded(this.store.url, () =>
      db.rows<{ fence: string }>(sql`
      insert into codex_pool.refresh_claims
        (account, fence, holder, generation, claimed_at, expires_at, intent_sent_at)
      values (${id}, nextval('codex_pool.fence'), ${this.holder}, ${gen}, clock_timestamp(),
              clock_timestamp() + ${ttl}::interval, null)
      on conflict (account) do update set fence = excluded.fence, holder = excluded.holder,
        generation = excluded.generation, claimed_at = excluded.claimed_at,
        expires_at = excluded.expires_at, intent_sent_at = null
      where codex_pool.refresh_claims.expires_at <= clock_timestamp()
        and codex_pool.refresh_claims.intent_sent_at is null
      returning fence::text as fence`),
    );
    return rows[0]?.fence ?? null;
  }

  /** Polls until the holder's claim is gone, expired or replaced, or the tokens moved. */
  private async waitForHolder(
    id: string,
    seen: Inspection,
    deadline: number,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    const { db } = await this.store.ready();
    for (;;) {
      if (this.clock.now() >= deadline) {
        throw new LockTimeoutError(
          `the token refresh of ${seen.account.email} is busy: ${seen.claim?.holder ?? "another machine"} holds it; try again`,
        );
      }
      await new Promise((r) => setTimeout(r, this.pollMs * (0.5 + Math.random())));
      signal?.throwIfAborted();
      const [row] = await guarded(this.store.url, () =>
        db.rows<{ gen: number; fence: string | null; expired: boolean | null }>(sql`
        select a.token_generation::float8 as gen, c.fence::text as fence,
               c.expires_at <= clock_timestamp() as expired
          from codex_pool.accounts a left join codex_pool.refresh_claims c on c.account = a.id
         where a.id = ${id}`),
      );
      if (!row || row.gen !== seen.gen || row.fence !== seen.claim?.fence || row.expired === true) {
        return;
      }
    }
  }

  /** Steps 3–6, holding `fence`. "lost": the claim was taken from us before sending. */
  private async hold(
    seen: Inspection,
    fence: string,
    plan: RefreshPlan,
  ): Promise<RefreshOutcome | "lost"> {
    const id = seen.account.id;
    await this.onStep("claimed", id);
    const again = await this.inspect(id);
    if (again.gen !== seen.gen || again.account.state.kind !== "ok") {
      await this.release(id, fence);
      return "lost"; // the loop adopts what moved
    }
    await this.onStep("reread", id);
    const intent = await this.markIntent(id, fence);
    if (intent === "lost") return "lost";
    if (intent !== "marked") {
      await this.release(id, fence);
      throw intent;
    }
    await this.onStep("intent", id);
    let tokens;
    try {
      tokens = await plan.send(again.account, { timeoutMs: this.sendTimeoutMs });
    } catch (error) {
      if (error instanceof NeedsLoginError) return this.dead(again, fence, error.reason);
      const how = plan.classify(error);
      if (how === "unknown") {
        await this.markInDoubt(id, fence, "a sent refresh got no answer", true);
        return { kind: "in-doubt", account: (await this.inspect(id)).account };
      }
      // It never reached the service, or the service refused without rotating: still good.
      await this.release(id, fence);
      throw error;
    }
    await this.onStep("answered", id);
    const { cipher } = await this.store.ready();
    const journal = await writeJournal(
      this.store.paths,
      cipher,
      id,
      seen.gen,
      tokens,
      new Date(this.clock.now()),
    );
    await this.onStep("journaled", id);
    const committed = await this.store.withPoolLock(async (tx) => {
      const ok = await commitRotated(tx, cipher, id, seen.gen, tokens);
      await tx.count(
        sql`delete from codex_pool.refresh_claims where account = ${id} and fence = ${fence}::int8`,
      );
      if (ok) {
        await this.store.finish(tx, [
          { account: id, action: "refresh", detail: { generation: seen.gen + 1, fence } },
        ]);
      }
      return ok;
    });
    await removeJournal(journal);
    await this.onStep("committed", id);
    const after = await this.inspect(id);
    // Not committed: the generation moved under us (a new login replaced the tokens): theirs stay.
    return committed
      ? { kind: "refreshed", account: after.account }
      : { kind: "current", account: after.account };
  }

  /**
   * Step 4: no live session elsewhere holds the refresh token (its codex's, in relaunch mode:
   * docs/decisions.md decision 3), and the claim is still ours and unexpired → extend it and mark
   * intent. Under the pool lock, which every session write takes, so no session starts holding
   * the token between the check and the mark.
   */
  private async markIntent(
    id: string,
    fence: string,
  ): Promise<"marked" | "lost" | RefreshTokenHeldError> {
    const ttl = `${this.ttlMs} milliseconds`;
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
           set intent_sent_at = clock_timestamp(), expires_at = clock_timestamp() + ${ttl}::interval
         where account = ${id} and fence = ${fence}::int8 and expires_at > clock_timestamp()`);
      return rows === 1 ? "marked" : "lost";
    });
  }

  private async release(id: string, fence: string): Promise<void> {
    const { db } = await this.store.ready();
    await guarded(this.store.url, () =>
      db.count(sql`
      delete from codex_pool.refresh_claims where account = ${id} and fence = ${fence}::int8`),
    );
  }

  /** A definitive refusal: needs-login if the tokens are still the spent ones; claim released. */
  private async dead(seen: Inspection, fence: string, reason: string): Promise<RefreshOutcome> {
    const since = new Date(this.clock.now()).toISOString();
    const marked = await this.store.withPoolLock(async (tx) => {
      await tx.count(
        sql`delete from codex_pool.refresh_claims where account = ${seen.account.id} and fence = ${fence}::int8`,
      );
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
    if (marked) return { kind: "needs-login", reason, replaced: null };
    return { kind: "needs-login", reason, replaced: (await this.inspect(seen.account.id)).account };
  }

  /**
   * Step 7: an expired claim with intent (or our own unanswered send) marks the account in doubt,
   * unless its generation moved since the claim was taken.
   */
  private async markInDoubt(
    id: string,
    fence: string,
    reason: string,
    mine = false,
  ): Promise<void> {
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
