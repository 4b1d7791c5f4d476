/**
 * An account's quota state as `status` (and anything else that reports on accounts) shows it:
 * ok, low (at or under a rotate floor), exhausted (until when), needs-login, error (the last probe
 * failed), or unknown (never observed). Pure: the caller passes the time and the floors.
 */
import type { Account, QuotaWindow } from "../pool/schema.js";
import { floorFor, type SelectionFloors } from "../pool/select.js";
import { bottleneck, effectiveLeft, exhaustedUntil, isSnapshotExhaustedNow } from "./windows.js";

export type QuotaState = "ok" | "low" | "exhausted" | "needs-login" | "error" | "unknown";

export interface AccountQuotaStatus {
  state: QuotaState;
  /** needs-login: the reason; error: the probe's short message; otherwise null. */
  detail: string | null;
  /** exhausted: when it is usable again, if known. */
  until: Date | null;
  /** The window with the least left now, or null without a snapshot. */
  bottleneck: QuotaWindow | null;
}

export function accountQuotaStatus(
  account: Account,
  now: Date,
  floors: SelectionFloors,
): AccountQuotaStatus {
  const quota = account.quota;
  const neck = quota === null ? null : bottleneck(quota.windows, now);
  const base = { detail: null, until: null, bottleneck: neck };
  if (account.state.kind !== "ok") {
    const detail =
      account.state.kind === "in-doubt"
        ? `refresh in doubt: ${account.state.reason}`
        : account.state.reason;
    return { ...base, state: "needs-login", detail };
  }
  const error = account.probeError;
  if (error !== null && (quota === null || Date.parse(error.at) >= Date.parse(quota.observedAt))) {
    return { ...base, state: "error", detail: error.message };
  }
  if (quota === null) return { ...base, state: "unknown" };
  if (isSnapshotExhaustedNow(quota, now)) {
    return { ...base, state: "exhausted", until: exhaustedUntil(quota, now) };
  }
  const low = quota.windows.some((w) => effectiveLeft(w, now) <= floorFor(w, account, floors));
  return { ...base, state: low ? "low" : "ok" };
}
