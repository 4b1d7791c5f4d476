/**
 * Makes a supervised session's switching port (`SessionPorts.switcher`, docs/supervisor.md): the
 * relaunch port with its rollout watcher and launches (relaunch.ts, watch.ts, launch.ts), and,
 * when the session starts live, the live port on codex's app-server (live.ts), under switcher.ts's
 * fall-back, which the pool is told of (from then on codex holds the refresh token). Apart from
 * index.ts because this is what the two mechanisms need of the session (paths, settings, the
 * terminal, the pool's tokens and quota), while index.ts composes the session's parts.
 */
import type { ChildProcess } from "node:child_process";
import type { TokenRefresher } from "../auth/refresher.js";
import { takeBackTokens } from "../codex/adopt.js";
import type { ClassifiedArgs } from "../codex/args.js";
import type { CodexBinary } from "../codex/binary.js";
import { accountHomePath } from "../codex/overlay-home.js";
import { refreshTokenHolders } from "../pool/live-sessions.js";
import type { LiveSession, Pool } from "../pool/schema.js";
import type { SuperviseDeps } from "./index.js";
import { findPdeathWrapper, type LaunchDeps } from "./launch.js";
import type { LiveSessionRecord } from "./live-sessions.js";
import type { createLivePort } from "./live.js";
import type { Mode } from "./machine.js";
import { fallbackLine, type SwitchMode } from "./mode.js";
import { createRelaunchPort, type RelaunchPort } from "./relaunch.js";
import type { SessionReport } from "./report.js";
import type { ScreenGate } from "./screen.js";
import type { SwitchEvent } from "./session-ports.js";
import type { SessionQuota } from "./session-quota.js";
import type { SessionSelection } from "./session-selection.js";
import { createSwitcher, type SessionSwitcher } from "./switcher.js";
import type { TerminalControl } from "./terminal.js";
import { startWatch, type WatchDeps } from "./watch.js";

/** The CLI's context as the switching needs it, and the session's parts. */
export interface SessionSwitchingDeps extends Pick<
  SuperviseDeps,
  "env" | "settings" | "paths" | "codex" | "store" | "clock"
> {
  readonly args: ClassifiedArgs;
  readonly mode: Mode;
  readonly cwd: string;
  readonly binary: CodexBinary;
  /** How the session starts moving (mode.ts). */
  readonly initial: SwitchMode;
  /** Live mode's parts: loaded only for a session that starts live (else null). */
  readonly liveModule: { readonly createLivePort: typeof createLivePort } | null;
  readonly refresher: TokenRefresher;
  /** Our lease in the pool (it says whether our codex holds the refresh token). */
  readonly live: LiveSessionRecord;
  readonly report: SessionReport;
  readonly screen: ScreenGate;
  /** null: no terminal to give back (exec, or not a terminal). */
  readonly terminal: TerminalControl | null;
  readonly quota: SessionQuota;
  readonly replacement: SessionSelection["replacement"];
  /** A line for the user (session-lines.ts). */
  say(line: string): void;
  /** The codex process to kill if we die (signals.ts). */
  onChild(child: ChildProcess | null): void;
}

/** The session's two ports: the one the runner gets, and the relaunch port beneath it. */
export interface SessionSwitching {
  readonly relaunch: RelaunchPort;
  readonly switcher: SessionSwitcher;
}

export function sessionSwitching(
  deps: SessionSwitchingDeps,
  emit: (event: SwitchEvent) => void,
): SessionSwitching {
  const { settings, store, clock, live, report, quota } = deps;
  /** The other live sessions whose codex holds, in `pool`, the account's refresh token. */
  const holders = (pool: Pool, id: string): LiveSession[] =>
    refreshTokenHolders(pool.sessions, id, clock.now(), live.me);
  const heldElsewhere = (pool: Pool, id: string): boolean => holders(pool, id).length > 0;
  // What both mechanisms need alike.
  const common = {
    clock,
    mode: deps.mode,
    killGraceMs: settings.killGraceSeconds * 1000,
    continuationTimeoutMs: settings.continuationTimeoutSeconds * 1000,
    screen: deps.screen,
    terminal: deps.terminal,
    report,
    onChild: (child: ChildProcess | null) => deps.onChild(child),
  };
  const launch: LaunchDeps = {
    store,
    settings,
    env: deps.env,
    clock,
    homesDir: deps.paths.homesDir,
    binary: deps.binary,
    args: deps.args,
    cwd: deps.cwd,
    ownedElsewhere: heldElsewhere,
    tokensFresh: (tokens) => deps.refresher.isFresh(tokens),
    ensureFresh: (id) => deps.refresher.ensureFresh(id),
    pdeathWrapper: findPdeathWrapper(),
  };
  const knownFile = { current: null as string | null };
  const watchDeps: Omit<WatchDeps, "onError"> = {
    clock,
    sessionsDir: deps.codex.sessionsDir,
    cwd: deps.cwd,
    mode: deps.mode,
    bindTimeoutMs: settings.bindTimeoutSeconds * 1000,
    quotaPollMs: settings.quotaPollSeconds * 1000,
    knownFile,
    otherSessions: async () => {
      const { pid, host } = live.me;
      const others = (await store.read()).sessions.filter(
        (s) => s.sessionId !== null && !(s.pid === pid && s.host === host),
      );
      return new Set(others.map((s) => s.sessionId ?? ""));
    },
    observe: (id, snapshot) => quota.observe(id, snapshot),
    // A relaunched codex owns its account's refresh token: never spent here.
    probe: (id, signal) => quota.probeStored(id, signal, () => true),
  };
  const relaunch = createRelaunchPort(
    {
      ...common,
      launch,
      // Errors of a watch become warnings.
      watch: (request, onEvent) =>
        startWatch(
          {
            ...watchDeps,
            onError: (error) =>
              onEvent({ type: "warning", message: `watching the session: ${String(error)}` }),
          },
          request,
          onEvent,
        ),
      sessionsDir: deps.codex.sessionsDir,
      knownFile,
    },
    emit,
  );
  const switcher = createSwitcher({
    initial: deps.initial,
    relaunch,
    emit,
    fellBack: (reason) => {
      deps.say(fallbackLine(reason));
      // From now on codex holds the account's refresh token: the pool must say so.
      live.mode = "relaunch";
      const entry = live.current;
      if (entry !== null) {
        live.set({ ...entry, mode: "relaunch" }).catch((error: unknown) => {
          report.heartbeatFailed(error);
        });
      }
    },
    live: (broken) => {
      if (deps.liveModule === null) throw new Error("live mode was not chosen for this session");
      return deps.liveModule.createLivePort(
        {
          ...common,
          settings,
          env: deps.env,
          binary: deps.binary,
          args: deps.args,
          cwd: deps.cwd,
          homesDir: deps.paths.homesDir,
          pdeathWrapper: launch.pdeathWrapper,
          tokens: {
            store,
            clock,
            isFresh: (tokens) => deps.refresher.isFresh(tokens),
            ensureFresh: (id, opts) => deps.refresher.ensureFresh(id, opts),
            refreshTokenHolders: holders,
            takeBack: async (account) => {
              const home = accountHomePath(deps.paths.homesDir, account.id);
              await takeBackTokens({ store, home, account });
            },
          },
          quotaPollMs: settings.quotaPollSeconds * 1000,
          refreshSkewMs: settings.refreshSkewSeconds * 1000,
          observe: (id, snapshot) => quota.observe(id, snapshot),
          // The pool owns this account's refresh (unless a relaunch codex elsewhere holds it).
          probe: (id, signal) => quota.probeStored(id, signal, (pool) => heldElsewhere(pool, id)),
          replacement: deps.replacement,
        },
        emit,
        broken,
      );
    },
  });
  return { relaunch, switcher };
}
