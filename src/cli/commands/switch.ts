/**
 * `codex-pool switch <n|email|id>`: make an account the default and write it to
 * $CODEX_HOME/auth.json, so plain `codex` runs on it.
 *
 * Before overwriting auth.json we look at what it holds: codex refreshes its tokens itself, and a
 * refresh token is spent once used, so tokens there that are newer than the pool's copy are
 * adopted first — a rotated token is never thrown away. Reading, adopting and writing happen in
 * one pool transaction, so two switches cannot interleave. A file we cannot read or parse stops
 * the command before anything is written.
 */
import path from "node:path";
import {
  authFileFor,
  poolTokensFrom,
  readAuthFile,
  tokenOwner,
  tokensOf,
  writeAuthFile,
  type AuthFile,
} from "../../codex/auth-file.js";
import { ensurePrivateDir, writeFileAtomic } from "../../platform/atomic-file.js";
import { CodexPoolError, ExitCode, UsageError } from "../../platform/errors.js";
import { accountIndex, adoptTokens, resolveAccount } from "../../pool/accounts.js";
import type { Account, Pool } from "../../pool/schema.js";
import { floorsFromSettings, selectBest } from "../../pool/select.js";
import type { CommandContext } from "../context.js";
import { refreshStaleQuotas } from "../quota-refresh.js";

export interface SwitchOptions {
  best?: boolean;
}

interface Adopted {
  email: string;
  index: number;
}

/** What auth.json holds that the pool does not know: it is saved before being overwritten. */
function foreignContent(pool: Pool, auth: AuthFile): string | null {
  const tokens = tokensOf(auth);
  if (tokens !== null) {
    const id = tokenOwner(tokens);
    const accountId = id.accountId;
    const known = pool.accounts.some(
      (a) => a.accountId === accountId && (id.email === null || a.email === id.email),
    );
    if (!known) return id.email ?? "a ChatGPT account that is not in the pool";
  }
  if (typeof auth.OPENAI_API_KEY === "string" && auth.OPENAI_API_KEY !== "") return "an API key";
  return null;
}

function adoptFromAuthFile(pool: Pool, auth: AuthFile | null): Adopted | null {
  const tokens = auth ? tokensOf(auth) : null;
  if (tokens === null) return null;
  const id = tokenOwner(tokens);
  const accountId = id.accountId;
  if (accountId === null) return null;
  const account = adoptTokens(pool, accountId, id.email, poolTokensFrom(tokens));
  return account ? { email: account.email, index: accountIndex(pool, account.id) } : null;
}

/** `--best`: what selection (src/pool/select.ts) would choose now from the pool's quota data. */
function bestOf(ctx: CommandContext, pool: Pool, now: Date): Account | null {
  const busy = pool.sessions.map((session) => session.account);
  return selectBest(pool.accounts, { floors: floorsFromSettings(ctx.settings), now, busy });
}

export async function switchCmd(
  ctx: CommandContext,
  selector: string | undefined,
  opts: SwitchOptions = {},
): Promise<number> {
  if (opts.best === true && selector !== undefined) {
    throw new UsageError("give either an account or --best, not both");
  }
  if (opts.best !== true && selector === undefined) {
    throw new UsageError(
      "name the account to switch to: its number, email or id (see codex-pool list)",
    );
  }
  // Choose from fresh quota, as `status` shows it: stale snapshots are re-checked first.
  if (opts.best === true) await refreshStaleQuotas(ctx, { force: false, progress: true });
  const authPath = ctx.codex.authFile;
  const now = new Date(ctx.clock.now());
  // One transaction: read auth.json and adopt newer tokens, choose, commit; only then (still under
  // the lock) overwrite auth.json — so adopted tokens are on disk in the pool before codex's copy
  // goes, and two switches cannot interleave.
  const result = await ctx.store.transact(
    async (pool) => {
      // A corrupt or unreadable auth.json throws here, before anything is written.
      const existing = await readAuthFile(authPath);
      const adopted = adoptFromAuthFile(pool, existing);
      const target =
        selector !== undefined ? resolveAccount(pool, selector) : bestOf(ctx, pool, now);
      if (target === null) return { ok: "none" as const, adopted };
      const index = accountIndex(pool, target.id);
      if (target.state.kind === "needs-login") {
        // Commit the adoption (if any) but do not hand codex a dead sign-in.
        const reason = target.state.reason;
        return { ok: "needs-login" as const, adopted, email: target.email, index, reason };
      }
      let savedCopy: { what: string; file: string } | null = null;
      const foreign = existing ? foreignContent(pool, existing) : null;
      if (existing && foreign !== null) {
        const file = path.join(ctx.paths.poolHome, `auth.json.replaced.${now.getTime()}`);
        await writeFileAtomic(file, JSON.stringify(existing, null, 2) + "\n");
        savedCopy = { what: foreign, file };
      }
      pool.defaultAccount = target.id;
      target.lastUsedAt = now.toISOString();
      const auth = authFileFor(target.tokens, target.accountId, existing, now);
      const seen = JSON.stringify(existing);
      return {
        ok: "switched" as const,
        adopted,
        email: target.email,
        index,
        savedCopy,
        auth,
        seen,
      };
    },
    {
      afterCommit: async (r) => {
        if (r.ok !== "switched") return;
        // codex may have refreshed (and rewritten) auth.json since we read it: then keep its file.
        if (JSON.stringify(await readAuthFile(authPath)) !== r.seen) {
          throw new CodexPoolError(
            `${authPath} changed while switching (codex refreshed it?); it was left as is — run the switch again`,
          );
        }
        await ensurePrivateDir(ctx.codex.codexHome);
        await writeAuthFile(authPath, r.auth);
      },
    },
  );
  if (result.adopted) {
    ctx.out.info(
      `kept the newer tokens codex had written for ${result.adopted.email} (account ${result.adopted.index})`,
    );
  }
  if (result.ok === "none") {
    throw new CodexPoolError(
      "--best found no usable account: every one needs a sign-in or is at its quota floor; see codex-pool status",
    );
  }
  if (result.ok === "needs-login") {
    throw new CodexPoolError(
      `account ${result.index} (${result.email}) needs a new sign-in (${result.reason}); run codex-pool login, or switch to another account`,
    );
  }
  if (result.savedCopy) {
    ctx.out.info(
      `${authPath} held ${result.savedCopy.what}, which is not in the pool; saved a copy to ${result.savedCopy.file} (add it with codex-pool import --auth-file ${result.savedCopy.file})`,
    );
  }
  ctx.out.line(`Switched to ${result.email} (account ${result.index}); ${authPath} updated.`);
  return ExitCode.ok;
}
