/**
 * One (re)launch of codex for the supervisor, around the bridge's planLaunch/finishLaunch
 * (src/codex/launch.ts): take back tokens an earlier child left, refresh the access token if the
 * pool owns the refresh (no other live codex runs this account), prepare the overlay home, build
 * the argv (the user's, or `resume <id>` with the continuation prompt), and spawn codex with the
 * terminal inherited. The TUI always gets --no-daemon: a daemon would keep the old account's token
 * (CODEX_CLI.md §5.4).
 *
 * If we are SIGKILLed the child must not linger holding the terminal: on Linux it is started
 * through `setpriv --pdeathsig SIGTERM`, which makes the kernel send it SIGTERM when we die
 * (setpriv execs codex in place, so there is still one process).
 */
import fs from "node:fs";
import { adoptTokensFromHome } from "../codex/adopt.js";
import { classifyArgs, insertOptions, resumeArgs, type ClassifiedArgs } from "../codex/args.js";
import type { CodexBinary } from "../codex/binary.js";
import { finishLaunch, planLaunch } from "../codex/launch.js";
import { accountHomePath } from "../codex/overlay-home.js";
import { spawnCodex } from "../codex/spawn.js";
import type { Clock } from "../platform/clock.js";
import { AccountNotFoundError, NeedsLoginError } from "../platform/errors.js";
import type { Env } from "../platform/paths.js";
import type { Settings } from "../platform/settings-table.js";
import type { Account } from "../pool/schema.js";
import type { PoolStore } from "../pool/store.js";
import type { AccountRef } from "./machine.js";
import type { LaunchedChild } from "./run-session.js";

export interface LaunchDeps {
  readonly store: PoolStore;
  readonly settings: Settings;
  readonly env: Env;
  readonly clock: Clock;
  readonly homesDir: string;
  readonly binary: CodexBinary;
  readonly args: ClassifiedArgs;
  readonly cwd: string;
  /** True when another live codex runs this account (its refresh token is that codex's). */
  ownedElsewhere(accountId: string): Promise<boolean>;
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

async function accountRow(store: PoolStore, id: string): Promise<Account> {
  const pool = await store.read();
  const row = pool.accounts.find((a) => a.id === id);
  if (!row) throw new AccountNotFoundError(`account ${id} was removed from the pool`);
  if (row.state.kind === "needs-login") {
    throw new NeedsLoginError(
      `account ${row.email} needs to sign in again; run codex-pool login`,
      row.state.reason,
    );
  }
  return row;
}

export async function launchCodex(
  deps: LaunchDeps,
  ref: AccountRef,
  resume: { sessionId: string; continuation: boolean } | null,
): Promise<LaunchedChild> {
  const home = accountHomePath(deps.homesDir, ref.id);
  let account = await accountRow(deps.store, ref.id);
  // Tokens a previous child rotated come back first, so a refresh never spends a dead token.
  await adoptTokensFromHome({ store: deps.store, home, account }).catch(() => undefined);
  if (!(await deps.ownedElsewhere(ref.id))) account = await deps.ensureFresh(ref.id);
  else account = await accountRow(deps.store, ref.id);
  const args = launchArgv(deps.args, resume, deps.settings.continuationPrompt);
  const plan = await planLaunch({
    store: deps.store,
    settings: deps.settings,
    env: deps.env,
    realHome: deps.settings.codexHome,
    homesDir: deps.homesDir,
    binary: deps.binary,
    account,
    args,
    now: new Date(deps.clock.now()),
  });
  const binary = deps.pdeathWrapper ?? deps.binary.path;
  const argv =
    deps.pdeathWrapper !== null
      ? ["--pdeathsig", "SIGTERM", "--", deps.binary.path, ...plan.argv]
      : plan.argv;
  // A resumed exec already consumed any piped input; codex must not wait on stdin for more.
  const stdin = isExecKind(deps.args) && resume !== null ? "ignore" : "inherit";
  const spawned = spawnCodex({
    binary: { path: binary },
    args: argv,
    env: plan.env,
    cwd: deps.cwd,
    stdio: [stdin, "inherit", "inherit"],
  });
  // Wait for the spawn itself, so a missing binary is a launch failure, not an exit.
  await new Promise<void>((resolve, reject) => {
    spawned.child.once("spawn", resolve);
    spawned.exited.catch(reject);
  });
  return {
    child: spawned.child,
    exited: spawned.exited.then((o) => ({ code: o.exitCode, signal: o.signal })),
  };
}

/** After a child exits: stray writes back to the real home, rotated tokens into the pool. */
export async function afterChild(
  deps: Pick<LaunchDeps, "store" | "settings" | "homesDir">,
  ref: AccountRef,
): Promise<void> {
  const pool = await deps.store.read();
  const row = pool.accounts.find((a) => a.id === ref.id);
  if (!row) return;
  await finishLaunch({
    store: deps.store,
    realHome: deps.settings.codexHome,
    home: accountHomePath(deps.homesDir, ref.id),
    account: row,
  });
}
