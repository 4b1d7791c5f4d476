/**
 * `usage_not_included` (docs/chatgpt-backend.md §3.3): the service says an account's plan does not
 * include Codex, or a model. It is permanent — never waited for, never rotated back into for that
 * model — so it is kept on the account, not in a quota snapshot a later reading would replace. A
 * change of plan (a reading or a sign-in naming another plan) forgets it: the new plan may include
 * what the old one did not. So does a usage endpoint that answers normally again (only `status
 * --refresh` asks it about such an account) for the verdict it gave itself, the one without a
 * model.
 */
import type { Account, NotIncluded } from "../pool/schema.js";

/** The verdict that applies to `model` (entries without a model apply to every model). */
export function notIncludedFor(
  account: Pick<Account, "notIncluded">,
  model: string | null | undefined,
): NotIncluded | null {
  const lower = model?.toLowerCase() ?? null;
  return (
    (account.notIncluded ?? []).find(
      (n) => n.model === null || (lower !== null && n.model.toLowerCase() === lower),
    ) ?? null
  );
}

/** Records that `model` (null: Codex itself) is not included in the account's plan. */
export function recordNotIncluded(
  account: Account,
  model: string | null,
  at: Date,
  message: string | null,
): void {
  const others = (account.notIncluded ?? []).filter((n) => n.model !== model);
  account.notIncluded = [...others, { model, at: at.toISOString(), message }];
}

/** Notes the plan a reading or a sign-in reports; another plan than the known one forgets the verdicts. */
export function notePlan(account: Account, plan: string | null): void {
  if (plan === null || plan === "") return;
  if (account.plan !== null && account.plan !== plan) delete account.notIncluded;
  account.plan = plan;
}

/** The usage endpoint answered with quota: its own earlier "not included" (no model) is over. */
export function clearPlanVerdict(account: Account): void {
  const rest = (account.notIncluded ?? []).filter((n) => n.model !== null);
  if (rest.length > 0) account.notIncluded = rest;
  else delete account.notIncluded;
}
