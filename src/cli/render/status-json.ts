/**
 * `status --json`: the field names are a contract (accounts[].index, id, email, plan, state,
 * bottleneck, windows[].{kind, label, windowMinutes, usedPercent, leftPercent, resetsAt},
 * observedAt, source). Fields may be added, never renamed. Every window, allowance and side limit
 * the account's snapshot holds is listed, with its kind, length, percent used and left, and reset;
 * and the supervised sessions using the account (`sessions[]`: host, lease current or lapsed).
 */
import type { Account, Allowance, Pool, QuotaWindow, SideLimit } from "../../pool/schema.js";
import type { Selection } from "../../pool/select.js";
import type { AccountQuotaStatus } from "../../quota/account-status.js";
import { sessionViews, type SessionView } from "./sessions.js";
import {
  allowanceLabel,
  allowanceLeftPercent,
  leftPercent,
  windowLabel,
} from "../../quota/windows.js";

export interface StatusRow {
  index: number;
  account: Account;
  status: AccountQuotaStatus;
  isDefault: boolean;
  isChosen: boolean;
  /** The supervised sessions using it (their machine, whether their lease is current). */
  sessions: SessionView[];
  /** Why this run did not check it (its refresh token belongs to a running codex), or null. */
  skipped: string | null;
}

export function buildRows(
  pool: Pool,
  selection: Selection,
  statusOf: (a: Account) => AccountQuotaStatus,
  now: number,
  skipped: ReadonlyMap<string, string> = new Map(),
): StatusRow[] {
  return pool.accounts.map((account, i) => ({
    index: i + 1,
    account,
    status: statusOf(account),
    isDefault: pool.defaultAccount === account.id,
    isChosen: selection.chosen?.id === account.id,
    sessions: sessionViews(pool, account.id, now),
    skipped: skipped.get(account.id) ?? null,
  }));
}

function windowJson(w: QuotaWindow): Record<string, unknown> {
  return {
    kind: w.kind,
    label: windowLabel(w),
    windowMinutes: w.windowMinutes,
    usedPercent: w.usedPercent,
    leftPercent: leftPercent(w),
    resetsAt: w.resetsAt,
  };
}

function allowanceJson(a: Allowance): Record<string, unknown> {
  return {
    kind: a.kind,
    label: allowanceLabel(a),
    reached: a.reached,
    usedPercent: a.usedPercent,
    leftPercent: a.reached ? 0 : allowanceLeftPercent(a),
    limit: a.limit,
    used: a.used,
    remaining: a.remaining,
    resetsAt: a.resetsAt,
  };
}

function sideLimitJson(s: SideLimit): Record<string, unknown> {
  return {
    scope: s.scope,
    name: s.name,
    feature: s.feature,
    limitReached: s.limitReached,
    blocks: false,
    windows: s.windows.map(windowJson),
  };
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
    exhaustedUntil: status.state === "exhausted" ? (status.until?.toISOString() ?? null) : null,
    blockedBy: status.blockedBy,
    usableAt: status.until?.toISOString() ?? null,
    default: row.isDefault,
    chosen: row.isChosen,
    bottleneck: status.bottleneck?.label ?? null,
    windows: (quota?.windows ?? []).map(windowJson),
    allowances: (quota?.allowances ?? []).map(allowanceJson),
    sideLimits: (quota?.sideLimits ?? []).map(sideLimitJson),
    limitReached: quota?.limitReached ?? false,
    reachedType: quota?.reachedType ?? null,
    notIncluded: (account.notIncluded ?? []).map((n) => ({
      model: n.model,
      at: n.at,
      message: n.message,
    })),
    observedAt: quota?.observedAt ?? null,
    source: quota?.source ?? null,
    skipped: row.skipped,
    sessions: row.sessions,
    error:
      account.probeError === null
        ? null
        : {
            kind: account.probeError.kind,
            message: account.probeError.message,
            at: account.probeError.at,
            retryAt: account.probeError.retryAt ?? null,
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
