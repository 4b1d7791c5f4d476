/**
 * Copying one pool into another without losing anything (`codex-pool db push` and `db pull`,
 * docs/team-pool.md "Moving a pool"). The rule:
 * - every account of the source ends up in the target: one the target lacks (by our id, else by
 *   ChatGPT account id + email) is added whole; none of the target's accounts is ever removed;
 * - an account both hold keeps the target's tokens unless the source's are newer (isNewerTokens:
 *   the later refresh, else the later access-token expiry). Refresh tokens only move forward along
 *   one chain, each refresh stamping its time, so "refreshed later" is "further along": the
 *   older token may already be spent, and writing it back would log the account out. The source's
 *   state (ok, needs-login) comes with its tokens; the target's stays with its own;
 * - quota snapshots: the newer observation wins; label, floors and plan: the target's, unless unset;
 * - live sessions are not copied (they belong to the machine that runs them).
 */
import { isNewerTokens } from "./accounts.js";
import { sameTokens } from "./refresh-coordinator.js";
import type { Account, Pool } from "./schema.js";

export interface MergeReport {
  added: string[];
  tokensTaken: string[];
  keptNewer: string[];
}

function matchOf(target: Pool, account: Account): Account | undefined {
  return (
    target.accounts.find((a) => a.id === account.id) ??
    target.accounts.find((a) => a.accountId === account.accountId && a.email === account.email)
  );
}

export function mergePools(target: Pool, source: Pool): MergeReport {
  const report: MergeReport = { added: [], tokensTaken: [], keptNewer: [] };
  for (const incoming of source.accounts) {
    const existing = matchOf(target, incoming);
    if (existing === undefined) {
      const copy = structuredClone(incoming);
      // Never two rows with one id: a clash of ids for different accounts keeps both.
      if (target.accounts.some((a) => a.id === copy.id)) continue;
      target.accounts.push(copy);
      report.added.push(copy.id);
      continue;
    }
    if (isNewerTokens(existing.tokens, incoming.tokens)) {
      existing.tokens = structuredClone(incoming.tokens);
      existing.state = structuredClone(incoming.state);
      report.tokensTaken.push(existing.id);
    } else if (!sameTokens(existing.tokens, incoming.tokens)) {
      report.keptNewer.push(existing.id);
    }
    const q = incoming.quota;
    if (q !== null && (existing.quota === null || q.observedAt > existing.quota.observedAt)) {
      existing.quota = structuredClone(q);
    }
    existing.label ??= incoming.label;
    existing.plan ??= incoming.plan;
    if (Object.keys(existing.floors).length === 0) existing.floors = { ...incoming.floors };
  }
  if (target.defaultAccount === null && source.defaultAccount !== null) {
    const chosen = source.accounts.find((a) => a.id === source.defaultAccount);
    const landed = chosen ? matchOf(target, chosen) : undefined;
    target.defaultAccount = landed?.id ?? null;
  }
  return report;
}
