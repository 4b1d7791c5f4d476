/**
 * Storing quota in the pool: probe results in one short transaction, and single snapshots from the
 * live sources (headers, codex.rate_limits, a 429, the rollout). A snapshot never replaces a newer
 * one, so a slow probe cannot overwrite what a running session observed meanwhile.
 */
import type { Account, Pool, QuotaSnapshot } from "../pool/schema.js";
import type { PoolStore } from "../pool/store.js";
import { clearPlanVerdict, notePlan, recordNotIncluded } from "./entitlements.js";
import type { ProbeResult } from "./probe-all.js";

function isNewer(snapshot: QuotaSnapshot, current: QuotaSnapshot | null): boolean {
  return current === null || Date.parse(snapshot.observedAt) >= Date.parse(current.observedAt);
}

/** Applies a snapshot to an account row; returns false when the row already holds a newer one. */
export function applySnapshot(account: Account, snapshot: QuotaSnapshot): boolean {
  if (!isNewer(snapshot, account.quota)) return false;
  account.quota = snapshot;
  account.probeError = null;
  notePlan(account, snapshot.plan);
  return true;
}

/** Applies probe results to a pool being changed (inside a transaction, or a copy). */
export function applyProbeResults(pool: Pool, results: readonly ProbeResult[], now: Date): void {
  for (const { id, outcome } of results) {
    const row = pool.accounts.find((a) => a.id === id);
    if (!row) continue; // removed while we probed
    switch (outcome.kind) {
      case "ok":
        if (applySnapshot(row, outcome.snapshot) && outcome.snapshot.source === "usage-api") {
          clearPlanVerdict(row);
        }
        break;
      case "skipped":
        break;
      case "not-included":
        recordNotIncluded(row, null, now, outcome.message);
        row.probeError = null;
        break;
      case "failed":
        row.probeError = outcome.error;
        break;
      case "needs-login":
        // A login that replaced the tokens while we probed is not the one that failed.
        if (row.tokens.refreshToken !== outcome.refreshToken) break;
        row.probeError = { at: now.toISOString(), kind: "auth", message: outcome.reason };
        if (outcome.record && row.state.kind === "ok") {
          row.state = { kind: "needs-login", reason: outcome.reason, since: now.toISOString() };
        }
        break;
    }
  }
}

/** Commits probe results in one transaction and returns the pool as written. */
export async function commitProbeResults(
  store: PoolStore,
  results: readonly ProbeResult[],
  now: Date,
): Promise<Pool> {
  return store.transact((pool) => {
    applyProbeResults(pool, results, now);
    return structuredClone(pool);
  });
}

/** Stores one snapshot for an account (by our id) if it is newer than the stored one. */
export async function recordSnapshot(
  store: PoolStore,
  id: string,
  snapshot: QuotaSnapshot,
): Promise<boolean> {
  return store.transact((pool) => {
    const row = pool.accounts.find((a) => a.id === id);
    return row ? applySnapshot(row, snapshot) : false;
  });
}
