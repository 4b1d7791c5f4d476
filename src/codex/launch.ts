/**
 * One codex child under one pool account, before and after: recover tokens an earlier child left
 * in the overlay, write the account's auth.json into its overlay home, build the child's env and
 * argv; afterwards move stray writes back to the real home and adopt the tokens codex rotated.
 * The supervisor runs these around each (re)launch; `codex-pool run` around its single one.
 */
import { authFileFor, readAuthFile } from "./auth-file.js";
import { takeBackTokens, type AdoptResult } from "./adopt.js";
import { insertOptions, type ClassifiedArgs } from "./args.js";
import type { CodexBinary } from "./binary.js";
import { buildChildEnv, codexConfigOverrides } from "./child-env.js";
import {
  accountHomePath,
  prepareAccountHome,
  reconcileAccountHome,
  type ReconcileReport,
} from "./overlay-home.js";
import path from "node:path";
import type { Env } from "../platform/paths.js";
import type { Settings } from "../platform/settings-table.js";
import type { Account } from "../pool/schema.js";
import type { PoolStore } from "../pool/store.js";

export interface LaunchPlanOptions {
  store: PoolStore;
  settings: Settings;
  /** Our environment (never mutated). */
  env: Env;
  /** The user's real Codex home. */
  realHome: string;
  /** <poolHome>/homes */
  homesDir: string;
  binary: CodexBinary;
  account: Account;
  /** The classified codex argv to run (the caller's, or one built by resumeArgs). */
  args: ClassifiedArgs;
  now: Date;
}

export interface LaunchPlan {
  readonly home: string;
  readonly argv: string[];
  readonly env: Record<string, string>;
  /** Tokens an earlier child had rotated and we had not adopted yet (taken now). */
  readonly recoveredTokens: boolean;
  readonly recoveredEntries: ReconcileReport;
}

/**
 * Prepares the overlay home and the child's argv/env. Tokens already in the overlay are adopted
 * first, so a rotation codex made in a run we did not see end is never thrown away; an overlay
 * auth.json that cannot be read stops the launch (TokensInDoubtError) rather than being
 * overwritten: it may hold the account's only live refresh token.
 */
export async function planLaunch(options: LaunchPlanOptions): Promise<LaunchPlan> {
  const { store, account } = options;
  const home = accountHomePath(options.homesDir, account.id);
  const earlier: AdoptResult = await takeBackTokens({ store, home, account });
  const current = earlier.adopted ? earlier.account : account;
  const existing = await readAuthFile(path.join(home, "auth.json")).catch(() => null);
  const prepared = await prepareAccountHome({
    realHome: options.realHome,
    homesDir: options.homesDir,
    ourAccountId: account.id,
    auth: authFileFor(current.tokens, current.accountId, existing, options.now),
  });
  const env = buildChildEnv({
    base: options.env,
    settings: options.settings,
    codexHome: prepared.home,
    sqliteHome: options.realHome,
    extra: options.binary.env,
  });
  const argv = insertOptions(options.args, codexConfigOverrides(options.settings));
  return {
    home: prepared.home,
    argv,
    env,
    recoveredTokens: earlier.adopted,
    recoveredEntries: prepared.recovered,
  };
}

export interface LaunchAftermath {
  readonly reconciled: ReconcileReport;
  readonly adopted: AdoptResult;
}

/**
 * After the child exits: the tokens codex rotated into the pool (first: they matter most; a
 * failure is a TokensInDoubtError), then stray writes back to the real home.
 */
export async function finishLaunch(options: {
  store: PoolStore;
  realHome: string;
  home: string;
  account: Pick<Account, "id" | "accountId" | "email">;
}): Promise<LaunchAftermath> {
  const adopted = await takeBackTokens({
    store: options.store,
    home: options.home,
    account: options.account,
  });
  const reconciled = await reconcileAccountHome(options.realHome, options.home);
  return { reconciled, adopted };
}
