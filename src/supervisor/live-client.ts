/**
 * The codex of a live session (live.ts): the user's codex attached to the relay in front of the
 * app-server (docs/codex-app-server.md §2, §7), with the terminal inherited and, where the
 * platform has one, the parent-death wrapper the relaunched codex gets (launch.ts), so a
 * codex-pool killed outright takes it along. Its home is the app-server's (no `auth.json`): it
 * signs in through the app-server only.
 */
import type { LiveController } from "../app-server/controller.js";
import type { ClassifiedArgs } from "../codex/args.js";
import type { CodexBinary } from "../codex/binary.js";
import { buildChildEnv, codexConfigOverrides } from "../codex/child-env.js";
import { remoteClientArgv } from "../codex/remote-args.js";
import { spawnCodex, started, type SpawnedCodex } from "../codex/spawn.js";
import type { Env } from "../platform/paths.js";
import type { Settings } from "../platform/settings-table.js";
import type { Mode, ResumeRequest } from "./machine.js";

export interface LiveClientDeps {
  readonly mode: Mode;
  readonly settings: Settings;
  readonly env: Env;
  readonly binary: CodexBinary;
  readonly args: ClassifiedArgs;
  readonly cwd: string;
  readonly pdeathWrapper: string | null;
}

/**
 * Spawns codex attached to `controller`'s relay: the user's own command line (`resume` null) or a
 * resume of the session (exec with the continuation prompt when one is due; a TUI's continuation
 * is a turn, sent once it is attached). Settles once the process runs.
 */
export async function spawnAttached(
  deps: LiveClientDeps,
  controller: Pick<LiveController, "attachArgs" | "attachEnv">,
  home: string,
  resume: ResumeRequest | null,
): Promise<SpawnedCodex> {
  const tui = deps.mode === "tui";
  const argv = remoteClientArgv(
    deps.args,
    { attach: controller.attachArgs(), cwd: deps.cwd },
    resume === null
      ? null
      : {
          sessionId: resume.sessionId,
          prompt: resume.continuation && !tui ? deps.settings.continuationPrompt : null,
        },
    tui ? codexConfigOverrides(deps.settings) : [],
  );
  const env = buildChildEnv({
    base: deps.env,
    settings: deps.settings,
    codexHome: home,
    sqliteHome: deps.settings.codexHome,
    extra: { ...deps.binary.env, ...controller.attachEnv() },
  });
  // A resumed exec already consumed any piped input; codex must not wait on stdin for more.
  const stdin = !tui && resume !== null ? "ignore" : "inherit";
  const spawned = spawnCodex({
    binary: deps.binary,
    args: argv,
    pdeathWrapper: deps.pdeathWrapper,
    env,
    cwd: deps.cwd,
    stdio: [stdin, "inherit", "inherit"],
  });
  await started(spawned); // so a missing binary is a failed start, not an exit
  return spawned;
}
