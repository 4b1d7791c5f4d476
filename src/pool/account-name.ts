/**
 * How every message names an account: its number in `list`, then its label or its email, e.g.
 * `#2 alice@…`. The number tells apart accounts whose emails start alike (alice@work.example and
 * alice@home.example are `#1 alice@…` and `#2 alice@…`); the email is masked to its local part
 * because emails appear in full only where the user asked to see accounts (docs/decisions.md
 * decision 9): `list`, `status`, and the result line of a command that acts on one account
 * (`reveal`). The supervisor's lines, exec attributions, countdowns and errors all use the masked
 * form.
 */
import type { Account, Pool } from "./schema.js";

export type NamedAccount = Pick<Account, "id" | "email" | "label">;

/** `alice@example.com` → `alice@…`; anything without a local part is kept as it is. */
export function maskEmail(email: string): string {
  const at = email.indexOf("@");
  return at > 0 ? `${email.slice(0, at)}@…` : email;
}

/**
 * `#2 alice@…` (or `#2 work` when the account has a label); with `reveal`, `#2 alice@example.com`
 * (`#2 work (alice@example.com)`). An account no longer in `pool` is named without a number.
 */
export function accountName(
  pool: Pick<Pool, "accounts">,
  account: NamedAccount,
  options: { reveal?: boolean } = {},
): string {
  return accountNameAt(pool.accounts.findIndex((a) => a.id === account.id) + 1, account, options);
}

/** accountName when the number is already known (1-based; 0 or less: not in the pool). */
export function accountNameAt(
  number: number,
  account: Omit<NamedAccount, "id">,
  options: { reveal?: boolean } = {},
): string {
  const reveal = options.reveal === true;
  const email = reveal ? account.email : maskEmail(account.email);
  const who =
    account.label === null || account.label === ""
      ? email
      : reveal
        ? `${account.label} (${email})`
        : account.label;
  return number > 0 ? `#${number} ${who}` : who;
}
