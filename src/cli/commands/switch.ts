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
import {
  CodexPoolError,
  ExitCode,
  NeedsLoginError,
  PoolExhaustedError,
  UsageError,
} from "../../platform/errors.js";
import { accountName } from "../../pool/account-name.js";
import { accountIndex, adoptTokens, resolveAccount } from "../../pool/accounts.js";
import { liveSessionAccounts } from "../../pool/live-sessions.js";
import type { Account, Pool } from "../../pool/schema.js";
import { selectBest } from "../../pool/select.js";
import { floorsFromSettings } from "../../quota/floors.js";
import type { CommandContext } from "../context.js";
import type { CommandInput } from "../declarations.js";
import { refreshStaleQuotas } from "../quota-refresh.js";

export type SwitchOptions = CommandInput<"switch">;

interface Adopted {
  name: string;
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
  return account ? { name: accountName(pool, account) } : null;
}

/** `--best`: what selection (src/pool/select.ts) would choose now from the pool's quota data. */
function bestOf(ctx: CommandContext, pool: Pool, now: Date): Account | null {
  const busy = liveSessionAccounts(pool, now.getTime());
  return selectBest(pool.accounts, { floors: floorsFromSettings(ctx.settings), now, busy });
}

export async function switchCmd(ctx: CommandContext, opts: SwitchOptions): Promise<number> {
  const selector = opts.account;
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
      if (target === null) {
        const signedIn = pool.accounts.some((a) => a.state.kind === "ok");
        return { ok: "none" as const, adopted, signedIn };
      }
      const index = accountIndex(pool, target.id);
      const name = accountName(pool, target);
      if (target.state.kind !== "ok") {
        // Commit the adoption (if any) but do not hand codex a dead sign-in, nor a refresh token
        // whose spend is in doubt (docs/team-pool.md).
        const reason = target.state.reason;
        return { ok: "needs-login" as const, adopted, name, reason };
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
        account: { index, id: target.id, email: target.email },
        revealed: accountName(pool, target, { reveal: true }),
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
            { code: "busy" },
          );
        }
        await ensurePrivateDir(ctx.codex.codexHome);
        await writeAuthFile(authPath, r.auth);
      },
    },
  );
  if (result.adopted) {
    ctx.out.info(`kept the newer tokens codex had written for ${result.adopted.name}`);
  }
  if (result.ok === "none") {
    if (!result.signedIn) {
      throw new NeedsLoginError(
        "--best found no account that is signed in; add one with codex-pool login",
        "no-account",
      );
    }
    throw new PoolExhaustedError(
      "--best found no usable account: each one needs a sign-in or is at its quota floor; see codex-pool status",
      null,
    );
  }
  if (result.ok === "needs-login") {
    throw new NeedsLoginError(
      `${result.name} needs a new sign-in (${result.reason}); run codex-pool login, or switch to another account`,
      result.reason,
    );
  }
  if (result.savedCopy) {
    ctx.out.info(
      `${authPath} held ${result.savedCopy.what}, which is not in the pool; saved a copy to ${result.savedCopy.file} (add it with codex-pool import --auth-file ${result.savedCopy.file})`,
    );
  }
  if (opts.json) {
    ctx.out.json({
      account: result.account,
      authFile: authPath,
      savedCopy: result.savedCopy?.file ?? null,
    });
  } else {
    ctx.out.line(`Switched to ${result.revealed}; ${authPath} updated.`);
  }
  return ExitCode.ok;
}
