/**
 * An account's quota state as `status` (and anything else that reports on accounts) shows it:
 * ok, low (at or under a floor), exhausted (until when, and by what), not-included (its plan has
 * no Codex), needs-login, error (the last probe failed), or unknown (never observed). Pure: the
 * caller passes the time and the floors; the judging itself is verdict.ts, as for selection.
 */
import type { Account } from "../pool/schema.js";
import { notIncludedFor } from "./entitlements.js";
import type { PoolFloors } from "./floors.js";
import { blockerLabel, judgeQuota, type LimitReading, type QuotaVerdict } from "./verdict.js";

export type QuotaState =
  "ok" | "low" | "exhausted" | "not-included" | "needs-login" | "error" | "unknown";

export interface AccountQuotaStatus {
  state: QuotaState;
  /** needs-login: the reason; error: the probe's short message; not-included: what is missing. */
  detail: string | null;
  /** exhausted or low: when it is usable again, if known. */
  until: Date | null;
  /** exhausted or low: what keeps it out ("weekly", "spend cap", "usage limit"). */
  blockedBy: string | null;
  /** The limit with the least headroom now, or null without one. */
  bottleneck: LimitReading | null;
  verdict: QuotaVerdict;
}

export function accountQuotaStatus(
  account: Account,
  now: Date,
  floors: PoolFloors,
): AccountQuotaStatus {
  const quota = account.quota;
  const verdict = judgeQuota(quota, account, floors, now);
  const base = {
    detail: null,
    until: null,
    blockedBy: null,
    bottleneck: verdict.bottleneck,
    verdict,
  };
  if (account.state.kind !== "ok") {
    const detail =
      account.state.kind === "in-doubt"
        ? `refresh in doubt: ${account.state.reason}`
        : account.state.reason;
    return { ...base, state: "needs-login", detail };
  }
  const missing = notIncludedFor(account, null);
  if (missing !== null) {
    return { ...base, state: "not-included", detail: "its plan does not include Codex" };
  }
  const error = account.probeError;
  // A throttle is not news about the quota: the last snapshot still stands (and says more).
  const errorStands = error !== null && !(error.kind === "throttled" && quota !== null);
  if (errorStands && (quota === null || Date.parse(error.at) >= Date.parse(quota.observedAt))) {
    return { ...base, state: "error", detail: error.message };
  }
  if (quota === null) return { ...base, state: "unknown" };
  if (verdict.blocked === null) return { ...base, state: "ok" };
  return {
    ...base,
    state: verdict.blocked === "exhausted" ? "exhausted" : "low",
    until: verdict.availableAt,
    blockedBy: blockerLabel(verdict),
  };
}
