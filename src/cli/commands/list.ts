/**
 * `codex-pool list [--json]`: the accounts in the pool, and the machines whose supervised sessions
 * use them. Reads without the lock (an atomic rename means a reader sees a whole file), so it stays
 * fast. Never prints a token: the JSON is built field by field, not by dumping the account.
 */
import { ExitCode } from "../../platform/errors.js";
import type { Account, Pool } from "../../pool/schema.js";
import type { CommandContext } from "../context.js";
import type { CommandInput } from "../declarations.js";
import { renderTable } from "../output.js";
import { inUseText, sessionViews, type SessionView } from "../render/sessions.js";

export interface ListedAccount {
  index: number;
  id: string;
  email: string;
  accountId: string;
  plan: string | null;
  state: Account["state"]["kind"];
  stateReason: string | null;
  default: boolean;
  label: string | null;
  addedAt: string;
  lastUsedAt: string | null;
  accessTokenExpiresAt: string | null;
  /** The supervised sessions using it: each one's machine and whether its lease is current. */
  sessions: SessionView[];
}

export function listedAccounts(pool: Pool, now: number): ListedAccount[] {
  return pool.accounts.map((a: Account, i) => ({
    index: i + 1,
    id: a.id,
    email: a.email,
    accountId: a.accountId,
    plan: a.plan,
    state: a.state.kind,
    stateReason: a.state.kind === "ok" ? null : a.state.reason,
    default: pool.defaultAccount === a.id,
    label: a.label,
    addedAt: a.addedAt,
    lastUsedAt: a.lastUsedAt,
    accessTokenExpiresAt: a.tokens.accessTokenExpiresAt,
    sessions: sessionViews(pool, a.id, now),
  }));
}

/** "3m ago", "5h ago", "2d ago", or "never". */
export function ago(iso: string | null, now: number): string {
  if (iso === null) return "never";
  const seconds = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (seconds < 60) return "just now";
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ago`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours}h ago`;
  return `${Math.floor(hours / 24)}d ago`;
}

export async function list(ctx: CommandContext, opts: CommandInput<"list">): Promise<number> {
  const pool = await ctx.store.read();
  const now = ctx.clock.now();
  const accounts = listedAccounts(pool, now);
  if (opts.json === true) {
    ctx.out.json({ accounts });
    return ExitCode.ok;
  }
  if (accounts.length === 0) {
    ctx.out.line(
      "The pool is empty. Add an account with `codex-pool login` (sign in with ChatGPT) or " +
        "`codex-pool import` (the account codex is signed in with).",
    );
    return ExitCode.ok;
  }
  // The machines using each account, when any session is recorded (docs/team-pool.md).
  const inUse = accounts.some((a) => a.sessions.length > 0);
  const rows = accounts.map((a) => [
    String(a.index),
    a.default ? ctx.out.paint("green", "*") : "",
    a.email,
    a.plan ?? "-",
    a.label ?? "",
    a.state === "ok" ? "ok" : ctx.out.paint("yellow", `${a.state} (${a.stateReason ?? "?"})`),
    ago(a.lastUsedAt, now),
    ...(inUse ? [inUseText(a.sessions, now)] : []),
  ]);
  const header = ["#", "", "EMAIL", "PLAN", "LABEL", "STATE", "LAST USED"];
  for (const line of renderTable(inUse ? [...header, "IN USE ON"] : header, rows)) {
    ctx.out.line(line);
  }
  return ExitCode.ok;
}
