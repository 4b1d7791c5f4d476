/**
 * `codex-pool import [--auth-file PATH]`: add (or update) the account held in a Codex auth.json.
 * Identity comes from tokenOwner (src/codex/auth-file.ts); the same ChatGPT account id + email
 * updates its row.
 */
import {
  AuthFileError,
  poolTokensFrom,
  readAuthFile,
  tokenOwner,
  tokensOf,
} from "../../codex/auth-file.js";
import { ExitCode } from "../../platform/errors.js";
import { expandHome } from "../../platform/paths.js";
import { accountName } from "../../pool/account-name.js";
import { accountIndex, upsertAccount } from "../../pool/accounts.js";
import type { CommandContext } from "../context.js";
import type { CommandInput } from "../declarations.js";

export type ImportOptions = CommandInput<"import">;

export async function importCmd(ctx: CommandContext, opts: ImportOptions): Promise<number> {
  const file = opts.authFile ? expandHome(opts.authFile, ctx.env) : ctx.codex.authFile;
  const auth = await readAuthFile(file);
  if (auth === null) {
    throw new AuthFileError(
      `no Codex auth.json at ${file}; sign in with \`codex login\` first, pass --auth-file PATH, or use codex-pool login`,
    );
  }
  const tokens = tokensOf(auth);
  if (tokens === null) {
    const apiKeyOnly = typeof auth.OPENAI_API_KEY === "string" && auth.OPENAI_API_KEY !== "";
    throw new AuthFileError(
      apiKeyOnly
        ? `${file} holds an API key, not a ChatGPT sign-in; the pool holds ChatGPT accounts only — sign in with codex-pool login`
        : `${file} holds no ChatGPT tokens (access and refresh token); sign in with \`codex login\` or codex-pool login`,
    );
  }
  const identity = tokenOwner(tokens);
  const accountId = identity.accountId;
  const email = identity.email;
  if (accountId === null || email === null) {
    const missing = accountId === null ? "ChatGPT account id" : "email";
    throw new AuthFileError(
      `the tokens in ${file} carry no ${missing}, so the account cannot be identified; nothing was imported — sign in again with codex-pool login`,
    );
  }
  const now = new Date(ctx.clock.now());
  const result = await ctx.store.transact((pool) => {
    const { account, created, tokensTaken } = upsertAccount(
      pool,
      { accountId, email, plan: identity.plan, tokens: poolTokensFrom(tokens) },
      now,
      { keepNewer: true },
    );
    return {
      created,
      tokensTaken,
      account: { index: accountIndex(pool, account.id), id: account.id, email: account.email },
      name: accountName(pool, account, { reveal: true }),
      plan: account.plan,
      isDefault: pool.defaultAccount === account.id,
    };
  });
  if (opts.json) {
    const { account, plan, isDefault, created, tokensTaken } = result;
    ctx.out.json({ account: { ...account, plan, default: isDefault }, created, tokensTaken });
    return ExitCode.ok;
  }
  const plan = result.plan ? ` (${result.plan})` : "";
  if (result.created) {
    ctx.out.line(`Imported ${result.name}${plan}${result.isDefault ? ", the default" : ""}.`);
  } else if (result.tokensTaken) {
    ctx.out.line(`Updated ${result.name}${plan} with the tokens of ${file}.`);
  } else {
    ctx.out.line(
      `${result.name}${plan} is already in the pool; its tokens are newer than ${file}'s, so they were kept.`,
    );
  }
  return ExitCode.ok;
}
