/**
 * `codex-pool run [--account <n|email|id>] [--no-wait] [--] [codex args…]`: picks an account,
 * runs the real codex under it in the account's overlay home with the terminal inherited, and
 * takes back the tokens codex rotated. Codex's arguments are passed on untouched (plus our `-c`
 * overrides). Supervision (rotation across accounts) is layered on by src/supervisor.
 */
import { TokenRefresher } from "../../auth/refresher.js";
import {
  classifyArgs,
  isSessionLaunch,
  insertOptions,
  type ClassifiedArgs,
} from "../../codex/args.js";
import { resolveCodexBinary } from "../../codex/binary.js";
import { buildChildEnv, codexConfigOverrides } from "../../codex/child-env.js";
import { takeBackTokens } from "../../codex/adopt.js";
import { finishLaunch, planLaunch } from "../../codex/launch.js";
import { accountHomePath } from "../../codex/overlay-home.js";
import { relaySignals, spawnCodex, type ChildOutcome } from "../../codex/spawn.js";
import { NeedsLoginError, PoolExhaustedError } from "../../platform/errors.js";
import { accountName } from "../../pool/account-name.js";
import { resolveAccount } from "../../pool/accounts.js";
import type { Account } from "../../pool/schema.js";
import { selectAccounts } from "../../pool/select.js";
import { floorsFromSettings } from "../../quota/floors.js";
import type { CommandContext } from "../context.js";
import type { CommandInput } from "../declarations.js";
import { formatReset } from "../render/time.js";

/** `wait` is false with --no-wait. */
export type RunOptions = CommandInput<"run">;

async function runChild(
  ctx: CommandContext,
  spawnArgs: Parameters<typeof spawnCodex>[0],
): Promise<ChildOutcome> {
  const { child, exited } = spawnCodex(spawnArgs);
  const release = relaySignals(child, process);
  try {
    return await exited;
  } finally {
    release();
  }
}

/** `--version`, `--help` and an empty pool's pass-through commands: codex as the user has it. */
async function runPlain(ctx: CommandContext, args: ClassifiedArgs): Promise<number> {
  const binary = resolveCodexBinary(ctx.env, ctx.settings);
  const env = buildChildEnv({
    base: ctx.env,
    settings: ctx.settings,
    codexHome: ctx.settings.codexHome,
    extra: binary.env,
  });
  const argv = args.topLevelInfo
    ? [...args.argv]
    : insertOptions(args, codexConfigOverrides(ctx.settings));
  return (await runChild(ctx, { binary, args: argv, env })).code128;
}

function chooseAccount(ctx: CommandContext, accounts: Account[], pinned: string | null): Account {
  const now = new Date(ctx.clock.now());
  const selection = selectAccounts(accounts, {
    floors: floorsFromSettings(ctx.settings),
    now,
    pinned,
  });
  if (selection.chosen) return selection.chosen;
  const first = selection.earliestReset;
  throw new PoolExhaustedError(
    first
      ? `every account is out of quota; the first resets at ${formatReset(first, now)} — try again then (see codex-pool status), or add an account with codex-pool login`
      : "no account can run now (see codex-pool status); add one with codex-pool login",
    first,
  );
}

export async function run(ctx: CommandContext, options: RunOptions): Promise<number> {
  const args = classifyArgs(options.codexArgs);
  // Help and version never depend on the pool (docs/supervisor-rules.md R21).
  if (args.topLevelInfo) return runPlain(ctx, args);

  const binary = resolveCodexBinary(ctx.env, ctx.settings);
  const pool = await ctx.store.read();
  if (pool.accounts.length === 0) {
    if (!isSessionLaunch(args)) return runPlain(ctx, args);
    throw new NeedsLoginError(
      "the pool has no accounts; add one with `codex-pool login` or `codex-pool import`",
      "no-account",
    );
  }
  if (isSessionLaunch(args)) {
    // Sessions (TUI, resume, exec) are supervised: account switches at turn boundaries.
    const { superviseSession } = await import("../../supervisor/index.js");
    return superviseSession(ctx, args, options);
  }
  let account =
    options.account !== undefined
      ? resolveAccount(pool, options.account)
      : chooseAccount(ctx, pool.accounts, pool.defaultAccount);
  // Never hand codex a dead sign-in, nor a refresh token whose spend is in doubt (docs/team-pool.md).
  if (account.state.kind !== "ok") {
    throw new NeedsLoginError(
      `${accountName(pool, account)} needs to sign in again (${account.state.reason}); run codex-pool login`,
      account.state.kind === "in-doubt" ? "refresh_in_doubt" : account.state.reason,
    );
  }
  if (!isSessionLaunch(args)) {
    // A session's refresh belongs to codex while it runs (docs/decisions.md decision 3): it
    // refreshes exactly when its token expires and we adopt the result. A one-shot command gets a
    // fresh one — after the tokens an earlier codex left are taken back: when they cannot be, this
    // throws and nothing is refreshed (docs/supervisor.md "tokens").
    await takeBackTokens({
      store: ctx.store,
      home: accountHomePath(ctx.paths.homesDir, account.id),
      account,
    });
    account = await new TokenRefresher({
      store: ctx.store,
      leasesDir: ctx.paths.leasesDir,
      authUrl: ctx.settings.authUrl,
      skewSeconds: ctx.settings.refreshSkewSeconds,
      fetch: ctx.fetch,
      clock: ctx.clock,
    }).ensureFresh(account.id);
  }
  const now = new Date(ctx.clock.now());
  await ctx.store.transact((p) => {
    const row = p.accounts.find((a) => a.id === account.id);
    if (row) row.lastUsedAt = now.toISOString();
  });
  const plan = await planLaunch({
    store: ctx.store,
    settings: ctx.settings,
    env: ctx.env,
    realHome: ctx.settings.codexHome,
    homesDir: ctx.paths.homesDir,
    binary,
    account,
    args,
    now,
  });
  if (args.kind === "exec" || args.kind === "exec-resume") {
    // Not for the TUI: it owns the screen (docs/supervisor-rules.md O10).
    ctx.out.info(`running on ${accountName(pool, account)}`);
  }
  let outcome: ChildOutcome;
  try {
    outcome = await runChild(ctx, { binary, args: plan.argv, env: plan.env });
  } finally {
    const after = await finishLaunch({
      store: ctx.store,
      realHome: ctx.settings.codexHome,
      home: plan.home,
      account,
    });
    if (after.reconciled.dropped.length > 0) {
      ctx.out.info(
        `kept the newer copy of ${after.reconciled.dropped.join(", ")} in ${ctx.settings.codexHome}`,
      );
    }
  }
  return outcome.code128;
}
