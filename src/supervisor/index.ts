/**
 * `superviseSession`: one supervised codex session (TUI, resume or exec) from start to exit code.
 * It composes the session's parts and hands them to the runner (run-session.ts): the mode
 * (mode.ts: live through codex's app-server, or relaunch), the refresher and our lease in the pool
 * (live-sessions.ts), the quota checks (session-quota.ts), the selection (session-selection.ts),
 * the switching port (session-switching.ts: live.ts where the mode says so, relaunch.ts with the
 * rollout watcher otherwise and as the fall-back), the terminal and the lines for the user
 * (session-lines.ts: held while codex owns the screen, and shown in a live TUI's own warnings).
 * The CLI passes its context; everything printed goes through `out`.
 */
import { resolveCodexBinary, type CodexBinary } from "../codex/binary.js";
import type { ClassifiedArgs } from "../codex/args.js";
import { TokenRefresher } from "../auth/refresher.js";
import type { Clock } from "../platform/clock.js";
import type { CodexPaths, Env, PoolPaths } from "../platform/paths.js";
import type { SettingSource } from "../platform/settings.js";
import type { Settings } from "../platform/settings-table.js";
import { resolveAccount } from "../pool/accounts.js";
import { describeHolder } from "../pool/live-sessions.js";
import type { PoolStore } from "../pool/store.js";
import { floorsFromSettings } from "../quota/floors.js";
import { codexVersion } from "../codex/version.js";
import { chooseMode, fallbackLine, type SwitchMode } from "./mode.js";
import { isExecKind } from "./launch.js";
import { LiveSessionRecord } from "./live-sessions.js";
import type { MachineConfig } from "./machine.js";
import type { RelaunchPort } from "./relaunch.js";
import { SessionReport } from "./report.js";
import { startSession, type SessionControl, type SessionPorts } from "./run-session.js";
import {
  endOfSession,
  sessionLines,
  sessionScreen,
  type SupervisorOutput,
} from "./session-lines.js";
import { sessionQuota } from "./session-quota.js";
import { sessionSelection } from "./session-selection.js";
import { sessionSwitching } from "./session-switching.js";
import { installSignalGuard, type SignalGuard, type SignalSource } from "./signals.js";
import type { SessionSwitcher } from "./switcher.js";
import { saveTerminal, type TerminalIo } from "./terminal.js";
import { usableAgain } from "./usable-again.js";
import type { HttpFetch } from "../platform/http.js";

/** The parts of the CLI's CommandContext the supervisor uses. */
export interface SuperviseDeps {
  readonly env: Env;
  readonly settings: Settings;
  readonly paths: PoolPaths;
  readonly codex: CodexPaths;
  readonly store: PoolStore;
  readonly clock: Clock;
  readonly out: SupervisorOutput;
  readonly fetch: HttpFetch;
  /** Where each setting came from (the mode's fall-back is said when it was asked for). */
  readonly sources?: Readonly<Partial<Record<"mode", SettingSource>>>;
}

export interface SuperviseOptions {
  /** --account: pin the first launch to this account (number, email or id). */
  readonly account?: string;
  /** commander's --no-wait (false when given). */
  readonly wait?: boolean;
  readonly cwd?: string;
  readonly binary?: CodexBinary;
  /** Where our signals come from (default: this process). */
  readonly signals?: SignalSource;
  /** The terminal a TUI runs on (default: this process's stdin and `out.stdout`). */
  readonly terminal?: TerminalIo;
  /** `run --mode`: how the session moves (default: the `mode` setting). */
  readonly mode?: SwitchMode;
}

export async function superviseSession(
  deps: SuperviseDeps,
  args: ClassifiedArgs,
  options: SuperviseOptions = {},
): Promise<number> {
  const { settings, store, clock, out } = deps;
  const mode = isExecKind(args) ? "exec" : "tui";
  const cwd = options.cwd ?? process.cwd();
  const binary = options.binary ?? resolveCodexBinary(deps.env, settings);
  const pool = await store.read();
  const pinned = options.account !== undefined ? resolveAccount(pool, options.account).id : null;
  const requested = options.mode ?? settings.mode;
  const choice = chooseMode({
    requested,
    source: options.mode !== undefined ? "flag" : (deps.sources?.mode ?? "default"),
    version: requested === "live" ? await codexVersion(binary, deps.env) : null,
    kind: mode,
    args,
  });
  // Live mode's parts (the relay, `ws`) are loaded only for a session that starts live.
  const liveModule = choice.mode === "live" ? await import("./live.js") : null;
  const floors = floorsFromSettings(settings);
  const report = new SessionReport();
  const refresher = new TokenRefresher({
    store,
    leasesDir: deps.paths.leasesDir,
    authUrl: settings.authUrl,
    skewSeconds: settings.refreshSkewSeconds,
    fetch: deps.fetch,
    clock,
  });
  const live = new LiveSessionRecord({
    store,
    clock,
    onError: (error) => report.heartbeatFailed(error),
  });
  // Claims made before the first publish record it too: whether codex holds a refresh token.
  live.mode = choice.mode;
  const quota = sessionQuota({ store, clock, settings, fetch: deps.fetch, tokens: refresher });

  /** The relaunch port, once the runner made it (the selection consults it). */
  let relaunch: RelaunchPort | null = null;
  /** The session's port (live or relaunch), once the runner made it. */
  let switcher: SessionSwitcher | null = null;
  let session: SessionControl | null = null;
  let guard: SignalGuard | null = null;
  const json = args.execOptions.includes("--json");
  const canWait = (options.wait ?? true) && settings.waitForReset && out.interactive;
  const config: MachineConfig = {
    mode,
    maxSwitches: settings.maxSwitches,
    continueAfterLimit: settings.continueAfterLimit,
    canWait,
    maxWaitMs: settings.maxWaitMinutes * 60_000,
  };

  const screen = sessionScreen(out);
  const terminalIo: TerminalIo = options.terminal ?? {
    stdin: process.stdin,
    inputFd: 0,
    write: (bytes) => {
      if (out.stdout?.isTTY === true) out.stdout.write(bytes);
    },
  };
  const terminal = mode === "tui" ? await saveTerminal(terminalIo) : null;
  const lines = sessionLines({
    out,
    clock,
    store,
    screen,
    report,
    json,
    switcher: () => switcher,
    sessionId: () => session?.state().ctx.sessionId ?? null,
  });
  if (choice.announce) lines.say(fallbackLine(choice.reason));
  const selection = sessionSelection({
    store,
    clock,
    settings,
    floors,
    live,
    pinned,
    quota,
    initialMode: choice.mode,
    sessionId: () => session?.state().ctx.sessionId ?? args.sessionId,
    relaunch: () => relaunch,
    switcher: () => switcher,
    claimed: (claimed) => lines.claimed(claimed),
  });
  const ports: SessionPorts = {
    clock,
    select: selection.select,
    prewarm: selection.prewarm,
    publish: (entry) => live.set({ ...entry, mode: switcher?.mode() ?? choice.mode }),
    onLeaseLost: (listener) =>
      live.onLost((lost) =>
        listener({ account: lost.account, by: lost.by.map(describeHolder).join(", ") }),
      ),
    usableAgain: (signal) => usableAgain({ store, clock, floors }, signal),
    output: lines.output,
    switcher: (emit) => {
      const made = sessionSwitching(
        {
          ...deps,
          args,
          mode,
          cwd,
          binary,
          initial: choice.mode,
          liveModule,
          refresher,
          live,
          report,
          screen,
          terminal,
          quota,
          replacement: selection.replacement,
          say: (line) => lines.say(line),
          onChild: (child) => guard?.setChild(child),
        },
        emit,
      );
      relaunch = made.relaunch;
      switcher = made.switcher;
      return switcher;
    },
  };

  session = startSession(ports, { config, sessionId: args.sessionId });
  const control = session;
  guard = installSignalGuard({
    source: options.signals ?? process,
    childRunning: () => control.childRunning(),
    onSignal: (signal) => control.signal(signal),
  });
  try {
    const result = await control.done;
    // Read through a function: the switcher is set by a callback the compiler does not follow.
    const last = (): SessionSwitcher | null => switcher;
    const endedLive = (last()?.mode() ?? choice.mode) === "live";
    return await endOfSession(result, { mode, clock, screen, report, live: endedLive });
  } finally {
    guard[Symbol.dispose]();
    // Our entry would be pruned anyway once this process is gone: a failed removal loses nothing.
    await live.close().catch(() => undefined);
  }
}
