/**
 * One (re)launch of codex for the relaunch switching port (relaunch.ts), around the bridge's
 * planLaunch/finishLaunch (src/codex/launch.ts): take back tokens an earlier child left, refresh
 * the access token if the pool owns the refresh (no other live codex runs this account), prepare
 * the overlay home, build the argv (the user's, or `resume <id>` with the continuation prompt),
 * and spawn codex with the terminal inherited. The TUI always gets --no-daemon: a daemon would keep
 * the old account's token (docs/codex-cli.md §5.4).
 *
 * Tokens are never spent twice: when the tokens an earlier child left cannot be taken back, the
 * launch fails (TokensInDoubtError) before anything refreshes the account (docs/supervisor.md
 * "tokens").
 *
 * If we are SIGKILLed the child must not linger holding the terminal: on Linux it is started
 * through `setpriv --pdeathsig SIGTERM`, which makes the kernel send it SIGTERM when we die
 * (setpriv execs codex in place, so there is still one process).
 */
import type { ChildProcess } from "node:child_process";
import fs from "node:fs";
import { takeBackTokens } from "../codex/adopt.js";
import { classifyArgs, insertOptions, type ClassifiedArgs } from "../codex/args.js";
import { resumeArgs } from "../codex/resume-args.js";
import type { CodexBinary } from "../codex/binary.js";
import { codexConfigOverrides } from "../codex/child-env.js";
import {
  finishLaunch,
  planLaunch,
  type LaunchAftermath,
  type LaunchPlan,
} from "../codex/launch.js";
import { accountHomePath, type ReconcileReport } from "../codex/overlay-home.js";
import { spawnCodex, started, type ChildOutcome } from "../codex/spawn.js";
import type { Clock } from "../platform/clock.js";
import { blockedError } from "../auth/refresher.js";
import type { Env } from "../platform/paths.js";
import type { Settings } from "../platform/settings-table.js";
import { accountName } from "../pool/account-name.js";
import { RefreshTokenHeldError } from "../pool/live-sessions.js";
import type { Account, Pool, Tokens } from "../pool/schema.js";
import type { PoolStore } from "../pool/store.js";
import type { AccountRef } from "./machine.js";
import { accountById } from "../pool/accounts.js";

export interface LaunchedChild {
  readonly child: ChildProcess;
  /** Settles when the child is gone. */
  readonly exited: Promise<ChildOutcome>;
  /** Files an earlier codex left in the overlay home, moved to (or dropped for) the real one. */
  readonly recovered: ReconcileReport;
}

export interface LaunchDeps {
  readonly store: PoolStore;
  readonly settings: Settings;
  readonly env: Env;
  readonly clock: Clock;
  readonly homesDir: string;
  readonly binary: CodexBinary;
  readonly args: ClassifiedArgs;
  readonly cwd: string;
  /**
   * True when, in `pool`, the codex of another live session holds this account's refresh token
   * (src/pool/live-sessions.ts): the refresh is that codex's.
   */
  ownedElsewhere(pool: Pool, accountId: string): boolean;
  /** Whether these tokens can start codex without a refresh (TokenRefresher.isFresh). */
  tokensFresh(tokens: Tokens): boolean;
  /** The refresher (TokenRefresher.ensureFresh). */
  ensureFresh(accountId: string): Promise<Account>;
  /** null: no parent-death wrapper (non-Linux, or setpriv missing). */
  readonly pdeathWrapper: string | null;
}

const SETPRIV_CANDIDATES = ["/usr/bin/setpriv", "/bin/setpriv"];

export function findPdeathWrapper(platform: string = process.platform): string | null {
  if (platform !== "linux") return null;
  for (const p of SETPRIV_CANDIDATES) {
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return null;
}

export function isExecKind(args: ClassifiedArgs): boolean {
  return args.kind === "exec" || args.kind === "exec-resume";
}

/** The argv of this launch: the user's own (plus --no-daemon for the TUI), or a resume. */
export function launchArgv(
  args: ClassifiedArgs,
  resume: { sessionId: string; continuation: boolean } | null,
  continuationPrompt: string,
): ClassifiedArgs {
  if (resume !== null) {
    const argv = resumeArgs(
      args,
      resume.sessionId,
      resume.continuation ? { prompt: continuationPrompt } : {},
    );
    return classifyArgs(argv);
  }
  if (isExecKind(args) || args.argv.includes("--no-daemon")) return args;
  // Before any `--`: after it the flag would be a prompt.
  return classifyArgs(insertOptions(args, ["--no-daemon"]));
}

function accountRow(pool: Pool, id: string): Account {
  const row = accountById(pool, id);
  const blocked = blockedError(accountName(pool, row), row);
  if (blocked !== null) throw blocked;
  return row;
}

/** A launch's overlay home and environment, made ready for one account ahead of its launch. */
export interface PreparedLaunch {
  readonly accountId: string;
  readonly plan: LaunchPlan;
}

function plan(deps: LaunchDeps, account: Account): Promise<LaunchPlan> {
  return planLaunch({
    store: deps.store,
    settings: deps.settings,
    env: deps.env,
    realHome: deps.settings.codexHome,
    homesDir: deps.homesDir,
    binary: deps.binary,
    account,
    args: deps.args, // the argv is built at the launch (it depends on the resume)
    now: new Date(deps.clock.now()),
  });
}

/**
 * Prepares a switch's launch while the choice is still being claimed (the two are independent),
 * from the row the choice was made on. null when its token needs a refresh first, or another
 * live codex runs the account (its overlay is then in use): the launch does it all in order.
 */
export async function prepareLaunch(
  deps: LaunchDeps,
  account: Account,
  ownedElsewhere: boolean,
): Promise<PreparedLaunch | null> {
  if (account.state.kind !== "ok" || ownedElsewhere || !deps.tokensFresh(account.tokens)) {
    return null;
  }
  return { accountId: account.id, plan: await plan(deps, account) };
}

/**
 * The refresher's fresh tokens, or `account` as it is when a live session's codex elsewhere started
 * holding the refresh token since the pool was read (the refresh coordinator refuses then): the
 * launch does not refresh it, as with any account another live codex runs.
 */
async function freshUnlessHeld(deps: LaunchDeps, id: string, account: Account): Promise<Account> {
  try {
    return await deps.ensureFresh(id);
  } catch (error) {
    if (error instanceof RefreshTokenHeldError) return account;
    throw error;
  }
}

/** The launch's plan: tokens fresh (refreshed if the pool owns them), overlay home, env. */
async function planFor(deps: LaunchDeps, ref: AccountRef): Promise<LaunchPlan> {
  const home = accountHomePath(deps.homesDir, ref.id);
  const pool = await deps.store.read();
  let account = accountRow(pool, ref.id);
  // The pool refreshes only a token that needs it and that no other live codex owns.
  if (!deps.ownedElsewhere(pool, ref.id) && !deps.tokensFresh(account.tokens)) {
    // Tokens a previous child rotated come back first, so a refresh never spends a dead token;
    // when they cannot be, this throws and nothing is refreshed.
    await takeBackTokens({ store: deps.store, home, account });
    account = accountRow(await deps.store.read(), ref.id);
    if (!deps.tokensFresh(account.tokens)) account = await freshUnlessHeld(deps, ref.id, account);
  }
  // (planLaunch takes back whatever an earlier child left in the overlay in any case.)
  return plan(deps, account);
}

/**
 * Launches codex on `ref`, with the plan `prepareLaunch` made for it if one is given (and worked).
 * `beforeSpawn` runs once everything is ready, right before the spawn (the switch line is written
 * there, so it lands before the new codex takes the terminal).
 */
export async function launchCodex(
  deps: LaunchDeps,
  ref: AccountRef,
  resume: { sessionId: string; continuation: boolean } | null,
  beforeSpawn: () => Promise<void> = () => Promise.resolve(),
  prepared: Promise<PreparedLaunch | null> = Promise.resolve(null),
): Promise<LaunchedChild> {
  const early = await prepared.catch(() => null);
  const plan = early?.accountId === ref.id ? early.plan : await planFor(deps, ref);
  const args = launchArgv(deps.args, resume, deps.settings.continuationPrompt);
  const codexArgv = insertOptions(args, codexConfigOverrides(deps.settings));
  await beforeSpawn();
  // A resumed exec already consumed any piped input; codex must not wait on stdin for more.
  const stdin = isExecKind(deps.args) && resume !== null ? "ignore" : "inherit";
  const spawned = spawnCodex({
    binary: deps.binary,
    args: codexArgv,
    pdeathWrapper: deps.pdeathWrapper,
    env: plan.env,
    cwd: deps.cwd,
    stdio: [stdin, "inherit", "inherit"],
  });
  await started(spawned); // so a missing binary is a launch failure, not an exit
  return { child: spawned.child, exited: spawned.exited, recovered: plan.recoveredEntries };
}

/**
 * After a child exits: rotated tokens into the pool, stray writes back to the real home. null when
 * the account was removed meanwhile. Throws TokensInDoubtError when the tokens cannot be taken back.
 */
export async function afterChild(
  deps: Pick<LaunchDeps, "store" | "settings" | "homesDir">,
  ref: AccountRef,
): Promise<LaunchAftermath | null> {
  const pool = await deps.store.read();
  const row = pool.accounts.find((a) => a.id === ref.id);
  if (!row) return null;
  return finishLaunch({
    store: deps.store,
    realHome: deps.settings.codexHome,
    home: accountHomePath(deps.homesDir, ref.id),
    account: row,
  });
}
