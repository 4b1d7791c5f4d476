/**
 * `codex-pool remove <n|email|id> [--yes]`: take an account out of the pool. It asks first on a
 * terminal; without one (scripts, CI) it refuses unless --yes, rather than hang on a prompt.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { createInterface } from "node:readline/promises";
import { ExitCode, UsageError } from "../../platform/errors.js";
import { accountName } from "../../pool/account-name.js";
import { accountIndex, resolveAccount } from "../../pool/accounts.js";
import type { CommandContext } from "../context.js";
import type { CommandInput } from "../declarations.js";

export type RemoveOptions = CommandInput<"remove">;

async function confirm(ctx: CommandContext, question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: ctx.out.stderr, terminal: true });
  try {
    const answer = await rl.question(`${question} [y/N] `);
    return /^\s*y(es)?\s*$/i.test(answer);
  } finally {
    rl.close();
  }
}

export async function remove(ctx: CommandContext, opts: RemoveOptions): Promise<number> {
  // Resolve for the question from a snapshot; the transaction re-resolves by our stable id.
  const snapshot = await ctx.store.read();
  const chosen = resolveAccount(snapshot, opts.account);
  const index = accountIndex(snapshot, chosen.id);
  // The user named this account to delete it: the question and the result show it in full.
  const label = accountName(snapshot, chosen, { reveal: true });
  if (opts.yes !== true) {
    if (process.stdin.isTTY !== true || opts.json) {
      const why = opts.json ? "--json never asks" : "there is no terminal to ask on";
      throw new UsageError(
        `not removing ${accountName(snapshot, chosen)} without confirmation (${why}); add --yes`,
      );
    }
    if (!(await confirm(ctx, `Remove ${label}?`))) {
      ctx.out.line("Nothing removed.");
      return ExitCode.ok;
    }
  }
  const result = await ctx.store.transact((pool) => {
    const at = pool.accounts.findIndex((a) => a.id === chosen.id);
    if (at < 0) return null; // removed by someone else meanwhile
    const [removed] = pool.accounts.splice(at, 1);
    let newDefault: { name: string; index: number; id: string; email: string } | null = null;
    if (pool.defaultAccount === chosen.id) {
      // The account that followed it takes over (the first one if it was the last), else none.
      const next = pool.accounts[at] ?? pool.accounts[0] ?? null;
      pool.defaultAccount = next?.id ?? null;
      if (next) {
        const name = accountName(pool, next, { reveal: true });
        newDefault = { name, index: accountIndex(pool, next.id), id: next.id, email: next.email };
      }
    }
    const liveSessions = pool.sessions.filter((s) => s.account === chosen.id).map((s) => s.pid);
    return { email: removed?.email ?? chosen.email, newDefault, liveSessions };
  });
  const removed = { index, id: chosen.id, email: chosen.email };
  if (result === null) {
    if (opts.json) ctx.out.json({ removed, alreadyRemoved: true, default: null, liveSessions: [] });
    else ctx.out.line(`${label} was already removed.`);
    return ExitCode.ok;
  }
  // The id is ours ("acc_" + hex, checked by the schema), so this path stays inside homes/.
  await fs.rm(path.join(ctx.paths.homesDir, chosen.id), { recursive: true, force: true });
  if (result.liveSessions.length > 0) {
    ctx.out.info(
      `a running session still uses it (pid ${result.liveSessions.join(", ")}); it keeps running until it ends`,
    );
  }
  if (opts.json) {
    const { newDefault } = result;
    ctx.out.json({
      removed,
      alreadyRemoved: false,
      default: newDefault && {
        index: newDefault.index,
        id: newDefault.id,
        email: newDefault.email,
      },
      liveSessions: result.liveSessions,
    });
    return ExitCode.ok;
  }
  const dflt = result.newDefault ? ` The default is now ${result.newDefault.name}.` : "";
  ctx.out.line(`Removed ${label}.${dflt}`);
  return ExitCode.ok;
}
