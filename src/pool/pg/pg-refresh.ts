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
 * This file holds the order of the steps; each step's statement is in refresh-claims.ts.
 */
import { randomBytes } from "node:crypto";
import { systemClock, type Clock } from "../../platform/clock.js";
import { LockTimeoutError, NeedsLoginError } from "../../platform/errors.js";
import {
  sameTokens,
  type RefreshCoordinator,
  type RefreshOutcome,
  type RefreshPlan,
} from "../refresh-coordinator.js";
import { accountNameAt } from "../account-name.js";
import type { Account } from "../schema.js";
import { commitRotated } from "./commit-tokens.js";
import { removeJournal, writeJournal } from "./journal.js";
import type { PgPoolStore } from "./pg-store.js";
import { claimDeletion, RefreshClaims, type Inspection } from "./refresh-claims.js";

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

export class PgRefreshCoordinator implements RefreshCoordinator {
  private readonly store: PgPoolStore;
  private readonly clock: Clock;
  private readonly sendTimeoutMs: number;
  private readonly waitMs: number;
  private readonly pollMs: number;
  private readonly onStep: NonNullable<PgRefreshOptions["onStep"]>;
  private readonly claims: RefreshClaims;

  constructor(options: PgRefreshOptions) {
    this.store = options.store;
    this.clock = options.clock ?? systemClock;
    const ttlMs = options.claimTtlMs ?? 30_000;
    this.sendTimeoutMs = options.sendTimeoutMs ?? Math.floor(ttlMs / 2);
    if (this.sendTimeoutMs >= ttlMs) {
      throw new RangeError("the refresh request's timeout must be shorter than the claim");
    }
    this.waitMs = options.waitMs ?? 60_000;
    this.pollMs = options.pollMs ?? 100;
    this.onStep = options.onStep ?? (() => undefined);
    const { host, pid } = this.store.identity;
    const holder = `${host}:${pid}:${randomBytes(4).toString("hex")}`;
    this.claims = new RefreshClaims({ store: this.store, clock: this.clock, ttlMs, holder });
  }

  async run(seen: Account, plan: RefreshPlan, signal?: AbortSignal): Promise<RefreshOutcome> {
    const deadline = this.clock.now() + this.waitMs;
    for (;;) {
      signal?.throwIfAborted();
      const now = await this.claims.inspect(seen.id);
      const { account, claim } = now;
      if (account.state.kind === "needs-login") {
        return { kind: "needs-login", reason: account.state.reason, replaced: null };
      }
      if (account.state.kind === "in-doubt") return { kind: "in-doubt", account };
      if (!sameTokens(account.tokens, seen.tokens) || !plan.needed(account)) {
        return { kind: "current", account };
      }
      if (claim !== null && claim.expired && claim.intent) {
        await this.claims.markInDoubt(
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
      const fence = await this.claims.take(account.id, now.gen);
      if (fence === null) continue;
      const outcome = await this.hold(now, fence, plan);
      if (outcome !== "lost") return outcome;
    }
  }

  /** Polls until the holder's claim is gone, expired or replaced, or the tokens moved. */
  private async waitForHolder(
    id: string,
    seen: Inspection,
    deadline: number,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    for (;;) {
      if (this.clock.now() >= deadline) {
        throw new LockTimeoutError(
          `the token refresh of ${accountNameAt(0, seen.account)} is busy: ${seen.claim?.holder ?? "another machine"} holds it; try again`,
        );
      }
      await this.clock.sleep(this.pollMs * (0.5 + Math.random()), signal);
      if (await this.claims.moved(id, seen)) return;
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
    const again = await this.claims.inspect(id);
    if (again.gen !== seen.gen || again.account.state.kind !== "ok") {
      await this.claims.release(id, fence);
      return "lost"; // the loop adopts what moved
    }
    await this.onStep("reread", id);
    const intent = await this.claims.markIntent(id, fence);
    if (intent === "lost") return "lost";
    if (intent !== "marked") {
      await this.claims.release(id, fence);
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
        await this.claims.markInDoubt(id, fence, "a sent refresh got no answer", true);
        return { kind: "in-doubt", account: (await this.claims.inspect(id)).account };
      }
      // It never reached the service, or the service refused without rotating: still good.
      await this.claims.release(id, fence);
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
      await tx.count(claimDeletion(id, fence));
      if (ok) {
        await this.store.finish(tx, [
          { account: id, action: "refresh", detail: { generation: seen.gen + 1, fence } },
        ]);
      }
      return ok;
    });
    await removeJournal(journal);
    await this.onStep("committed", id);
    const after = await this.claims.inspect(id);
    // Not committed: the generation moved under us (a new login replaced the tokens): theirs stay.
    return committed
      ? { kind: "refreshed", account: after.account }
      : { kind: "current", account: after.account };
  }

  /** A definitive refusal: needs-login if the tokens are still the spent ones; claim released. */
  private async dead(seen: Inspection, fence: string, reason: string): Promise<RefreshOutcome> {
    const marked = await this.claims.markNeedsLogin(seen, fence, reason);
    if (marked) return { kind: "needs-login", reason, replaced: null };
    return {
      kind: "needs-login",
      reason,
      replaced: (await this.claims.inspect(seen.account.id)).account,
    };
  }
}
