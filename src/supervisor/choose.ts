/**
 * Choosing the account for a launch or a switch: rank the pool (src/pool/select.ts), check the
 * leader's quota afresh unless it was just checked (a prewarm), and claim it for this session in
 * one short pool transaction, which also stores what the check found (a switch waits on every
 * transaction, so there is one). The claim re-reads the pool, so an account that another session
 * claimed meanwhile is given up for the next one when another is usable (R25: never commit a
 * choice from a stale snapshot). The pool lock is never held across the network check.
 *
 * A first launch looks at the whole pool before ranking it: every account whose quota is unknown
 * or stale is checked at once (one concurrent round, bounded by the probe timeout; an expired
 * access token is refreshed for it unless a live codex owns the account), so a never-checked
 * account with room is not passed over for a checked one nearly out.
 */
import type { Clock } from "../platform/clock.js";
import { accountName } from "../pool/account-name.js";
import type { Account, Pool } from "../pool/schema.js";
import type { PoolStore } from "../pool/store.js";
import { selectAccounts, type Selection, type SelectionFloors } from "../pool/select.js";
import { applyProbeResults, commitProbeResults } from "../quota/commit.js";
import type { ProbeOutcome } from "../quota/probe-account.js";
import { needsProbe, probeEach, type ProbeResult } from "../quota/probe-all.js";
import { hasStaleReset } from "../quota/windows.js";
import { refreshHeldAccounts } from "../pool/live-sessions.js";
import { busyAccounts, type AliveCheck, type LiveSessionRecord } from "./live-sessions.js";
import type { AccountRef, Exhaustion } from "./machine.js";
import type { SelectOutcome, SelectRequest } from "./session-ports.js";

/** A snapshot younger than this (and with no reset passed since) is not checked again. */
export const FRESH_QUOTA_MS = 20_000;
/** A check of an account this recent (or still running) is reused rather than repeated. */
export const PROBE_REUSE_MS = 5_000;

type ProbeFn = ChooseDeps["probe"];

/**
 * Shares checks of one account made close together: a prewarm's check, still running or just
 * done, serves the switch that follows it (an exec run's limit starts both within milliseconds).
 * Only a successful answer is kept once settled; a failure is asked again next time.
 */
export function reuseRecentProbes(
  probe: ProbeFn,
  clock: Clock,
  maxAgeMs = PROBE_REUSE_MS,
): ProbeFn {
  const recent = new Map<string, { at: number; outcome: Promise<ProbeOutcome> }>();
  return (account, codexOwned, signal, fresh = false) => {
    const hit = recent.get(account.id);
    if (!fresh && hit !== undefined && clock.now() - hit.at <= maxAgeMs) return hit.outcome;
    const entry = { at: clock.now(), outcome: probe(account, codexOwned, signal, fresh) };
    recent.set(account.id, entry);
    entry.outcome.then(
      (outcome) => {
        if (outcome.kind === "ok") entry.at = clock.now();
        else if (recent.get(account.id) === entry) recent.delete(account.id);
      },
      () => {
        if (recent.get(account.id) === entry) recent.delete(account.id);
      },
    );
    return entry.outcome;
  };
}

export interface ChooseDeps {
  readonly store: PoolStore;
  readonly clock: Clock;
  readonly floors: SelectionFloors;
  readonly isAlive: AliveCheck;
  readonly live: LiveSessionRecord;
  /** Our id of the account pinned with --account (first launch only), or null. */
  readonly pinned: string | null;
  /**
   * Told of a switch's leading candidate before it is checked and claimed, with the row it was
   * ranked on and whether another live codex runs it: its launch can be prepared meanwhile. A
   * later call (the check moved the leader) replaces the earlier one.
   */
  chosen?(account: Account, ownedElsewhere: boolean, ref: AccountRef): void;
  /**
   * A first launch probes every account with unknown or stale quota (older than `maxAgeMs`, or a
   * reset passed) in one concurrent round before choosing; absent: only the leader is checked.
   */
  readonly probeRound?: {
    readonly maxAgeMs: number;
    readonly concurrency: number;
    readonly timeoutMs: number;
  };
  /** Told of the pool as a switch's claim committed it (the switch line can show it unread). */
  claimed?(pool: Pool): void;
  /** The bound session id, for our live-session entry. */
  sessionId(): string | null;
  /**
   * Checks one account's quota; `codexOwned` when a live codex holds its refresh token. `fresh`:
   * a recent check of it must not stand in for this one.
   */
  probe(
    account: Account,
    codexOwned: boolean,
    signal: AbortSignal,
    fresh?: boolean,
  ): Promise<ProbeOutcome>;
}

/** The supervisor's handle on an account; its label names it as every message does. */
export function refOf(pool: Pool, account: Pick<Account, "id" | "email" | "label">): AccountRef {
  return { id: account.id, label: accountName(pool, account) };
}

function isFresh(account: Account, now: Date): boolean {
  const q = account.quota;
  if (q === null) return false;
  return now.getTime() - Date.parse(q.observedAt) < FRESH_QUOTA_MS && !hasStaleReset(q, now);
}

/**
 * Which accounts reset when, and what holds each (a window, a spend cap), judged without
 * exclusions (the one we leave counts too). An account whose plan lacks Codex never resets: it is
 * not waited for.
 */
export function exhaustionOf(pool: Pool, floors: SelectionFloors, now: Date): Exhaustion {
  const all: Selection = selectAccounts(pool.accounts, { floors, now });
  const resets = all.skipped
    .filter((s) => s.reason.code === "exhausted" || s.reason.code === "below-floor")
    .map((s) => ({
      account: refOf(pool, s.account),
      resetsAt: s.reason.availableAt?.getTime() ?? null,
      what: s.reason.window,
    }));
  // Something looks usable once nothing is excluded (stale data): re-check it right away.
  const earliest = all.chosen !== null ? now.getTime() : (all.earliestReset?.getTime() ?? null);
  return { resets, earliest };
}

/**
 * One round: every account (not excluded, not needing a login) whose quota is unknown or stale is
 * probed concurrently, and what the round found is stored in one transaction. An account whose
 * refresh token a live codex holds is probed with the token in hand only (the refresh is that
 * codex's).
 */
async function probeStaleAccounts(
  deps: ChooseDeps,
  round: NonNullable<ChooseDeps["probeRound"]>,
  exclude: Iterable<string> | undefined,
  signal: AbortSignal,
): Promise<void> {
  const pool = await deps.store.read();
  const now = new Date(deps.clock.now());
  const excluded = new Set(exclude ?? []);
  const freshness = { maxAgeSeconds: round.maxAgeMs / 1000, force: false };
  const due = pool.accounts.filter((a) => !excluded.has(a.id) && needsProbe(a, now, freshness));
  if (due.length === 0) return;
  const held = refreshHeldAccounts(pool, now.getTime(), deps.isAlive, deps.live.me);
  const results = await probeEach(
    due,
    (account, codexOwned, probeSignal) => deps.probe(account, codexOwned, probeSignal),
    () => new Date(deps.clock.now()),
    { concurrency: round.concurrency, timeoutMs: round.timeoutMs, signal, codexOwned: held },
  );
  signal.throwIfAborted();
  await commitProbeResults(deps.store, results, new Date(deps.clock.now()));
}

export async function chooseAccount(
  deps: ChooseDeps,
  request: SelectRequest,
  signal: AbortSignal,
  options: { commit?: boolean } = {},
): Promise<SelectOutcome> {
  const commit = options.commit ?? true;
  const me = deps.live.me;
  if (request.purpose === "start" && deps.probeRound !== undefined) {
    await probeStaleAccounts(deps, deps.probeRound, request.exclude, signal);
  }
  let attempts = 0;
  const checked = new Set<string>();
  for (;;) {
    signal.throwIfAborted();
    const pool = await deps.store.read();
    const now = new Date(deps.clock.now());
    const busy = busyAccounts(pool, me, now.getTime(), deps.isAlive);
    const held = refreshHeldAccounts(pool, now.getTime(), deps.isAlive, me);
    const pinned = request.purpose === "start" && attempts === 0 ? deps.pinned : null;
    const selection = selectAccounts(pool.accounts, {
      floors: deps.floors,
      now,
      pinned,
      exclude: request.exclude,
      busy,
    });
    const chosen = selection.chosen;
    if (chosen === null)
      return { kind: "exhausted", exhaustion: exhaustionOf(pool, deps.floors, now) };
    // Bounded: each round either commits or learns something new about one account.
    attempts += 1;
    const lastChance = attempts > pool.accounts.length + 1;
    // After a wait for a reset every snapshot is suspect (we waited because all were out): look
    // again once, so a stale "usable" never relaunches into the same limit without a pause.
    const recheck = request.purpose === "after-wait" && !checked.has(chosen.id);
    // Its launch is prepared meanwhile: the check rarely moves the leader, and the next round
    // prepares the one that takes its place.
    if (commit && request.purpose === "switch")
      deps.chosen?.(chosen, busy.has(chosen.id), refOf(pool, chosen));
    let probed: ProbeResult | null = null;
    if (recheck || !isFresh(chosen, now)) {
      checked.add(chosen.id);
      const started = performance.now();
      const outcome = await deps.probe(chosen, held.has(chosen.id), signal, recheck);
      signal.throwIfAborted();
      probed = { id: chosen.id, outcome, durationMs: performance.now() - started };
      // A fresh look moved it under its floor or out: rank again with what we now know.
      if ((outcome.kind === "ok" || outcome.kind === "needs-login") && !lastChance) {
        const after = structuredClone(pool);
        applyProbeResults(after, [probed], new Date(deps.clock.now()));
        const again = selectAccounts(after.accounts, {
          floors: deps.floors,
          now: new Date(deps.clock.now()),
          pinned,
          exclude: request.exclude,
          busy,
        });
        if (again.chosen?.id !== chosen.id) {
          await commitProbeResults(deps.store, [probed], new Date(deps.clock.now()));
          continue;
        }
      }
      // A probe that failed on the network says nothing new: go with what the pool knew.
    }
    // A prewarm stores nothing: the switch that follows reuses its check (reuseRecentProbes) and
    // stores it with its claim, in the one transaction a switch waits on.
    if (!commit) return { kind: "selected", account: refOf(pool, chosen) };
    const result = probed;
    let committed: Pool = pool;
    const claimed = await deps.store.transact((fresh) => {
      committed = fresh;
      if (result !== null) applyProbeResults(fresh, [result], new Date(deps.clock.now()));
      const row = fresh.accounts.find((a) => a.id === chosen.id);
      if (!row || row.state.kind !== "ok") return false;
      const nowMs = deps.clock.now();
      const busyNow = busyAccounts(fresh, me, nowMs, deps.isAlive);
      // The user's --account is theirs to share; any other choice yields to a session that
      // took the account while we checked, when a free one is usable.
      if (busyNow.has(row.id) && !busy.has(row.id) && row.id !== pinned && !lastChance) {
        const alt = selectAccounts(fresh.accounts, {
          floors: deps.floors,
          now: new Date(nowMs),
          exclude: request.exclude,
          busy: busyNow,
        });
        if (alt.chosen !== null && alt.chosen.id !== row.id) return false;
      }
      row.lastUsedAt = new Date(nowMs).toISOString();
      deps.live.apply(fresh, { account: row.id, sessionId: deps.sessionId(), phase: "switching" });
      return true;
    });
    if (claimed && request.purpose === "switch") deps.claimed?.(committed);
    if (claimed) return { kind: "selected", account: refOf(committed, chosen) };
  }
}
