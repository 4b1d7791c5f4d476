/**
 * `status --json`: the field names are a contract (accounts[].index, id, email, plan, state,
 * bottleneck, windows[].{kind, windowMinutes, usedPercent, leftPercent, resetsAt}, observedAt,
 * source). Fields may be added, never renamed.
 */
import type { Account, Pool } from "../../pool/schema.js";
import type { Selection } from "../../pool/select.js";
import type { AccountQuotaStatus } from "../../quota/account-status.js";
import { leftPercent, windowLabel } from "../../quota/windows.js";

export interface StatusRow {
  index: number;
  account: Account;
  status: AccountQuotaStatus;
  isDefault: boolean;
  isChosen: boolean;
}

export function buildRows(
  pool: Pool,
  selection: Selection,
  statusOf: (a: Account) => AccountQuotaStatus,
): StatusRow[] {
  return pool.accounts.map((account, i) => ({
    index: i + 1,
    account,
    status: statusOf(account),
    isDefault: pool.defaultAccount === account.id,
    isChosen: selection.chosen?.id === account.id,
  }));
}

function accountJson(row: StatusRow): Record<string, unknown> {
  const { account, status } = row;
  const quota = account.quota;
  return {
    index: row.index,
    id: account.id,
    accountId: account.accountId,
    email: account.email,
    label: account.label,
    plan: quota?.plan ?? account.plan,
    state: status.state,
    stateDetail: status.detail,
    exhaustedUntil: status.until?.toISOString() ?? null,
    default: row.isDefault,
    chosen: row.isChosen,
    bottleneck: status.bottleneck === null ? null : windowLabel(status.bottleneck),
    windows: (quota?.windows ?? []).map((w) => ({
      kind: w.kind,
      label: windowLabel(w),
      windowMinutes: w.windowMinutes,
      usedPercent: w.usedPercent,
      leftPercent: leftPercent(w),
      resetsAt: w.resetsAt,
    })),
    limitReached: quota?.limitReached ?? false,
    observedAt: quota?.observedAt ?? null,
    source: quota?.source ?? null,
    error:
      account.probeError === null
        ? null
        : {
            kind: account.probeError.kind,
            message: account.probeError.message,
            at: account.probeError.at,
          },
  };
}

export function statusJson(rows: readonly StatusRow[], selection: Selection): unknown {
  const chosen = rows.find((r) => r.isChosen);
  return {
    accounts: rows.map(accountJson),
    chosen:
      chosen === undefined
        ? null
        : { index: chosen.index, id: chosen.account.id, email: chosen.account.email },
    earliestReset:
      selection.chosen === null ? (selection.earliestReset?.toISOString() ?? null) : null,
  };
}
