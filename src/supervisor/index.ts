/**
 * `superviseSession`: one supervised codex session (TUI, resume or exec) from start to exit code.
 * It wires the runner (run-session.ts) to the pool, quota and refresher (selection, the live
 * entry), the switching port (switcher.ts: live.ts through codex's app-server where the mode says
 * so, mode.ts; relaunch.ts with the codex bridge and the rollout watcher otherwise, and as the
 * fall-back), the terminal and the lines for the user (held while codex owns the screen, and shown
 * in a live TUI's own warnings). The CLI passes its context; everything printed goes through `out`.
 */
import type { Writable } from "node:stream";
import type { ClassifiedArgs } from "../codex/args.js";
import { resolveCodexBinary, type CodexBinary } from "../codex/binary.js";
import { TokenRefresher } from "../auth/refresher.js";
import type { Clock } from "../platform/clock.js";
import { PoolExhaustedError } from "../platform/errors.js";
import type { CodexPaths, Env, PoolPaths } from "../platform/paths.js";
import type { SettingSource } from "../platform/settings.js";
import type { Settings } from "../platform/settings-table.js";
import { resolveAccount } from "../pool/accounts.js";
import { describeHolder, refreshHeldAccounts } from "../pool/live-sessions.js";
import type { Pool } from "../pool/schema.js";
import type { PoolStore } from "../pool/store.js";
import { floorsFromSettings } from "../pool/select.js";
import { applySnapshot } from "../quota/commit.js";
import { probeAccount } from "../quota/probe-account.js";
import { takeBackTokens } from "../codex/adopt.js";
import { accountHomePath } from "../codex/overlay-home.js";
import { codexVersion } from "../codex/version.js";
import { chooseAccount, reuseRecentProbes } from "./choose.js";

import type { LiveTokenDeps } from "./live-tokens.js";
import { chooseMode, fallbackLine, type SwitchMode } from "./mode.js";
import { findPdeathWrapper, isExecKind, type LaunchDeps } from "./launch.js";
import { defaultAliveCheck, LiveSessionRecord } from "./live-sessions.js";
import type { MachineConfig } from "./machine.js";
import { pressureOf } from "./pressure.js";
import { createRelaunchPort, type RelaunchPort } from "./relaunch.js";
import {
  attributionJson,
  attributionLine,
  countdownLine,
  exhaustedMessage,
  formatSwitchLine,
  shortSession,
} from "./render.js";
import { SessionReport } from "./report.js";
import { startSession, type SessionOutput, type SessionPorts } from "./run-session.js";
import { ScreenGate } from "./screen.js";
import { installSignalGuard, type SignalGuard, type SignalSource } from "./signals.js";
import { createSwitcher, type SessionSwitcher } from "./switcher.js";
import { saveTerminal, type TerminalIo } from "./terminal.js";
import { usableAgain } from "./usable-again.js";
import { startWatch, type WatchDeps } from "./watch.js";
import type { HttpFetch } from "../platform/http.js";

/** How long the pool a switch's claim committed stands in for a fresh read in its switch line. */
const CLAIM_REUSE_MS = 1_000;

/** What the supervisor prints through (src/cli/output.ts Output fits). */
export interface SupervisorOutput {
  info(text: string): void;
  line(text: string): void;
  progress(text: string): void;
  clearProgress(): void;
  readonly interactive: boolean;
  /** Where info() writes, so a line can be known to be out before codex takes the terminal. */
  readonly stderr?: Pick<Writable, "write">;
  /** Where codex draws its TUI: the terminal modes it leaves on are undone there. */
  readonly stdout?: Pick<Writable, "write"> & { readonly isTTY?: boolean };
}

/** Settles once everything written to `stream` so far has been handed to the OS. */
function flushed(stream: Pick<Writable, "write"> | undefined): Promise<void> {
  if (stream === undefined) return Promise.resolve();
  return new Promise((resolve) => {
    stream.write("", () => resolve());
  });
}

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
  const probeDeps = {
    backendUrl: settings.backendUrl,
    fetch: deps.fetch,
    tokens: refresher,
    now: () => new Date(clock.now()),
  };
  const timeout = (signal: AbortSignal): AbortSignal =>
    AbortSignal.any([signal, AbortSignal.timeout(settings.probeTimeoutMs)]);
  const ownedElsewhere = (pool: Pool, id: string): boolean =>
    refreshHeldAccounts(pool, clock.now(), defaultAliveCheck, live.me).has(id);

  /** The relaunch port, once the runner made it (chooseDeps consults it). */
  let relaunch: RelaunchPort | null = null;
  /** The session's port (live or relaunch), once the runner made it. */
  let switcher: SessionSwitcher | null = null;
  /** Relaunch work only: a live session's next account is never written into an overlay home. */
  const relaunching = (): boolean => (switcher?.mode() ?? choice.mode) === "relaunch";
  /** The pool as a switch's claim left it, and when: its switch line shows it (no re-read). */
  let claimedPool: { pool: Pool; at: number } | null = null;
  let session: ReturnType<typeof startSession> | null = null;
  const chooseDeps = {
    store,
    clock,
    floors,
    isAlive: defaultAliveCheck,
    live,
    pinned,
    probeRound: {
      maxAgeMs: settings.quotaMaxAgeSeconds * 1000,
      concurrency: settings.probeConcurrency,
      timeoutMs: settings.probeTimeoutMs,
    },
    sessionId: () => session?.state().ctx.sessionId ?? args.sessionId,
    // A switch's candidate, before it is checked and claimed: its launch is prepared (relaunch),
    // or it is logged in ahead (live: the login is most of a live switch, and the session is
    // between turns).
    chosen: (account: Parameters<RelaunchPort["prepare"]>[0], owned: boolean) => {
      if (relaunching()) relaunch?.prepare(account, owned);
      else switcher?.preLogin({ id: account.id, label: account.label ?? account.email });
    },
    claimed: (pool: Pool) => {
      claimedPool = { pool, at: clock.now() };
    },
    // One check serves a prewarm and the switch right after it (an exec limit starts both). An
    // account whose tokens could not be taken back is never refreshed (docs/supervisor.md
    // "tokens").
    probe: reuseRecentProbes(async (account, codexOwned, signal) => {
      // Tokens a child left (of this run, or of one that died) are taken back before a probe may
      // refresh the account; when they cannot be, it is probed like a codex-owned one.
      const settled = codexOwned || relaunch === null ? true : await relaunch.settleTokens(account);
      return probeAccount(account, probeDeps, {
        signal: timeout(signal),
        codexOwned: codexOwned || !settled || relaunch?.inDoubt(account.id) === true,
      });
    }, clock),
  };
  const launchDeps: LaunchDeps = {
    store,
    settings,
    env: deps.env,
    clock,
    homesDir: deps.paths.homesDir,
    binary,
    args,
    cwd,
    ownedElsewhere,
    tokensFresh: (tokens) => refresher.isFresh(tokens),
    ensureFresh: (id) => refresher.ensureFresh(id),
    pdeathWrapper: findPdeathWrapper(),
  };
  const json = args.execOptions.includes("--json");
  const canWait = (options.wait ?? true) && settings.waitForReset && out.interactive;
  const config: MachineConfig = {
    mode,
    maxSwitches: settings.maxSwitches,
    continueAfterLimit: settings.continueAfterLimit,
    canWait,
    maxWaitMs: settings.maxWaitMinutes * 60_000,
  };

  const screen = new ScreenGate({
    write: (line) => out.info(line),
    flushed: () => flushed(out.stderr),
  });
  const terminalIo: TerminalIo = options.terminal ?? {
    stdin: process.stdin,
    inputFd: 0,
    write: (bytes) => {
      if (out.stdout?.isTTY === true) out.stdout.write(bytes);
    },
  };
  const terminal = mode === "tui" ? await saveTerminal(terminalIo) : null;
  const knownFile = { current: null as string | null };
  const watchDeps: WatchDeps = {
    clock,
    sessionsDir: deps.codex.sessionsDir,
    cwd,
    mode,
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
    onError: () => undefined, // replaced per watch below: errors become warnings
    // One transaction stores the snapshot and judges the pressure on what it left.
    observe: (id, snapshot) =>
      store.transact((pool) => {
        const row = pool.accounts.find((a) => a.id === id);
        if (!row) return null;
        applySnapshot(row, snapshot);
        const level = pressureOf(row.quota, row, { ...settings }, new Date(clock.now()));
        return { type: "pressure", account: id, level } as const;
      }),
    probe: async (id, signal) => {
      const row = (await store.read()).accounts.find((a) => a.id === id);
      if (!row) return null;
      const outcome = await probeAccount(row, probeDeps, {
        signal: timeout(signal),
        codexOwned: true,
      });
      return outcome.kind === "ok" ? outcome.snapshot : null;
    },
  };

  const heldElsewhere = (p: Pool, id: string): boolean =>
    refreshHeldAccounts(p, clock.now(), defaultAliveCheck, live.me).has(id);
  const liveTokens: LiveTokenDeps = {
    store,
    clock,
    isFresh: (tokens) => refresher.isFresh(tokens),
    ensureFresh: (id, opts) => refresher.ensureFresh(id, opts),
    refreshHeldElsewhere: heldElsewhere,
    takeBack: async (account) => {
      const home = accountHomePath(deps.paths.homesDir, account.id);
      await takeBackTokens({ store, home, account });
    },
  };

  /** A line for the user: held while codex owns the screen, and shown in a live TUI now. */
  const say = (line: string | Promise<string | null>): void => {
    screen.line(line);
    void Promise.resolve(line).then(
      (text) => {
        if (text !== null) switcher?.tell(text);
      },
      () => undefined, // the held copy says what could be said
    );
  };
  if (choice.announce) say(fallbackLine(choice.reason));

  let guard: SignalGuard | null = null;
  const output: SessionOutput = {
    notice: (message) => say(message),
    announceSwitch: (sessionId, from, to, cause) => {
      // A TUI's switch comes after its child stopped: a claim older than that is read again.
      const recent = claimedPool !== null && clock.now() - claimedPool.at <= CLAIM_REUSE_MS;
      const source = recent && claimedPool !== null ? claimedPool.pool : store;
      say(
        formatSwitchLine(
          source,
          clock,
          sessionId,
          from,
          to,
          cause,
          switcher?.mode() === "live",
        ).catch(() => `session ${shortSession(sessionId)} moved from ${from.label} to ${to.label}`),
      );
    },
    attribute: (account, previous, cause, code) => {
      screen.line(attributionLine(account, previous, cause, code));
      if (json) {
        const sessionId = session?.state().ctx.sessionId ?? null;
        out.line(attributionJson(account, previous, cause, code, sessionId, report.warnings));
      }
    },
    // In line with the lines before it (the attribution of the run that hit the limit).
    countdown: (remainingMs, exhaustion) => {
      if (remainingMs === null) screen.write(() => out.clearProgress());
      else {
        const text = countdownLine(remainingMs, exhaustion, clock.now());
        screen.write(() => out.progress(text));
      }
    },
  };
  const ports: SessionPorts = {
    clock,
    select: async (request, signal) => {
      claimedPool = null;
      let outcome = await chooseAccount(chooseDeps, request, signal);
      // Every account out: judged again once a limit live mode is storing is in (its reset
      // decides the wait). A switch that found an account never waits for that store.
      if (outcome.kind === "exhausted" && (await switcher?.quotaSettled()) === true) {
        outcome = await chooseAccount(chooseDeps, request, signal);
      }
      // No move follows: a candidate logged in ahead gives the session its account back.
      if (outcome.kind === "exhausted") await switcher?.abandonPreLogin();
      return outcome;
    },
    prewarm: async (exclude, signal) => {
      const r = await chooseAccount(
        chooseDeps,
        { exclude, preferred: null, purpose: "switch" },
        signal,
        { commit: false },
      );
      return r.kind === "selected" ? r.account : null;
    },
    publish: (entry) => live.set({ ...entry, mode: switcher?.mode() ?? choice.mode }),
    onLeaseLost: (listener) =>
      live.onLost((lost) =>
        listener({ account: lost.account, by: lost.by.map(describeHolder).join(", ") }),
      ),
    usableAgain: (signal) => usableAgain({ store, clock, floors }, signal),
    output,
    switcher: (emit) => {
      relaunch = createRelaunchPort(
        {
          clock,
          mode,
          launch: launchDeps,
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
          killGraceMs: settings.killGraceSeconds * 1000,
          continuationTimeoutMs: settings.continuationTimeoutSeconds * 1000,
          screen,
          terminal,
          report,
          onChild: (child) => guard?.setChild(child),
        },
        emit,
      );
      switcher = createSwitcher({
        initial: choice.mode,
        relaunch,
        emit,
        fellBack: (reason) => {
          say(fallbackLine(reason));
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
          if (liveModule === null) throw new Error("live mode was not chosen for this session");
          return liveModule.createLivePort(
            {
              clock,
              mode,
              settings,
              env: deps.env,
              binary,
              args,
              cwd,
              homesDir: deps.paths.homesDir,
              pdeathWrapper: launchDeps.pdeathWrapper,
              tokens: liveTokens,
              killGraceMs: settings.killGraceSeconds * 1000,
              continuationTimeoutMs: settings.continuationTimeoutSeconds * 1000,
              quotaPollMs: settings.quotaPollSeconds * 1000,
              refreshSkewMs: settings.refreshSkewSeconds * 1000,
              screen,
              terminal,
              report,
              onChild: (child) => guard?.setChild(child),
              observe: (id, snapshot) => watchDeps.observe(id, snapshot),
              // The pool owns this account's refresh (unless a relaunch codex elsewhere holds it).
              probe: async (id, signal) => {
                const p = await store.read();
                const row = p.accounts.find((a) => a.id === id);
                if (!row) return null;
                const outcome = await probeAccount(row, probeDeps, {
                  signal: timeout(signal),
                  codexOwned: heldElsewhere(p, id),
                });
                return outcome.kind === "ok" ? outcome.snapshot : null;
              },
              replacement: async (exclude, signal) => {
                const r = await chooseAccount(
                  chooseDeps,
                  { exclude, preferred: null, purpose: "switch" },
                  signal,
                );
                return r.kind === "selected" ? r.account : null;
              },
            },
            emit,
            broken,
          );
        },
      });
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
    const { ctx } = result.state;
    if (mode === "tui" && ctx.served.length > 1) {
      // The switch lines are hidden under the TUI's screen: say once where the session went.
      const who = ctx.sessionId !== null ? `session ${shortSession(ctx.sessionId)}` : "the session";
      screen.line(`${who} ran on ${ctx.served.map((a) => a.label).join(" → ")}`);
    }
    for (const line of report.take()) screen.line(line);
    await screen.drain();
    if (result.exhaustion !== null) {
      const { message, earliest } = exhaustedMessage(result.exhaustion, clock.now(), ctx.sessionId);
      throw new PoolExhaustedError(message, earliest === null ? null : new Date(earliest));
    }
    return result.code;
  } finally {
    guard[Symbol.dispose]();
    // Our entry would be pruned anyway once this process is gone: a failed removal loses nothing.
    await live.close().catch(() => undefined);
  }
}
