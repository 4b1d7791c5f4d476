/**
 * A supervised session's quota work on the pool: checking an account's /wham/usage through the
 * refresher (bounded by `probeTimeoutMs`), and storing a reading with the pressure it puts on its
 * account in one transaction (docs/decisions.md decision 4). Selection, the relaunch watcher and
 * the live port all check and store through these, so each does it the same way; apart from
 * index.ts, which only hands them out. Whether an account's refresh token may be spent
 * (`codexOwned`, decision 3) is the caller's to say: each knows who holds it.
 */
import type { Clock } from "../platform/clock.js";
import type { HttpFetch } from "../platform/http.js";
import type { Settings } from "../platform/settings-table.js";
import type { Account, Pool, QuotaSnapshot } from "../pool/schema.js";
import type { PoolStore } from "../pool/store.js";
import { applySnapshot } from "../quota/commit.js";
import { probeAccount, type ProbeOutcome, type TokenSource } from "../quota/probe-account.js";
import { pressureOf } from "./pressure.js";
import type { WatchEvent } from "./watch.js";

export interface SessionQuotaDeps {
  readonly store: PoolStore;
  readonly clock: Clock;
  readonly settings: Settings;
  readonly fetch: HttpFetch;
  /** The session's refresher (src/auth/refresher.ts). */
  readonly tokens: TokenSource;
}

export interface SessionQuota {
  /** Checks `account` now; `codexOwned`: its refresh token is not ours to spend. */
  probe(account: Account, signal: AbortSignal, codexOwned: boolean): Promise<ProbeOutcome>;
  /**
   * Checks the account as the pool holds it now (null: not in the pool, or no reading);
   * `codexOwned` is judged on the pool as read.
   */
  probeStored(
    id: string,
    signal: AbortSignal,
    codexOwned: (pool: Pool) => boolean,
  ): Promise<QuotaSnapshot | null>;
  /** Stores a reading of an account and returns the pressure it puts on it. */
  observe(id: string, snapshot: QuotaSnapshot): Promise<WatchEvent | null>;
}

export function sessionQuota(deps: SessionQuotaDeps): SessionQuota {
  const { store, clock, settings } = deps;
  const probeDeps = {
    backendUrl: settings.backendUrl,
    fetch: deps.fetch,
    tokens: deps.tokens,
    now: () => new Date(clock.now()),
  };
  const timeout = (signal: AbortSignal): AbortSignal =>
    AbortSignal.any([signal, AbortSignal.timeout(settings.probeTimeoutMs)]);
  const probe: SessionQuota["probe"] = (account, signal, codexOwned) =>
    probeAccount(account, probeDeps, { signal: timeout(signal), codexOwned });
  return {
    probe,
    async probeStored(id, signal, codexOwned) {
      const pool = await store.read();
      const row = pool.accounts.find((a) => a.id === id);
      if (!row) return null;
      const outcome = await probe(row, signal, codexOwned(pool));
      return outcome.kind === "ok" ? outcome.snapshot : null;
    },
    // One transaction stores the snapshot and judges the pressure on what it left.
    observe: (id, snapshot) =>
      store.transact((pool) => {
        const row = pool.accounts.find((a) => a.id === id);
        if (!row) return null;
        applySnapshot(row, snapshot);
        const level = pressureOf(row.quota, row, { ...settings }, new Date(clock.now()));
        return { type: "pressure", account: id, level } as const;
      }),
  };
}
