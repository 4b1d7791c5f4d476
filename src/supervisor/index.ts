/**
 * `superviseSession`: one supervised codex session (TUI, resume or exec) from start to exit code.
 * It wires the state machine's runner (run-session.ts) to the pool, quota, refresher, the codex
 * bridge and the terminal. The CLI passes its context; everything printed goes through `out`.
 */
import type { Writable } from "node:stream";
import type { ClassifiedArgs } from "../codex/args.js";
import { resolveCodexBinary, type CodexBinary } from "../codex/binary.js";
import { TokenRefresher } from "../auth/refresher.js";
import type { Clock } from "../platform/clock.js";
import { PoolExhaustedError, errorMessage } from "../platform/errors.js";
import type { CodexPaths, Env, PoolPaths } from "../platform/paths.js";
import type { Settings } from "../platform/settings-table.js";
import { resolveAccount } from "../pool/accounts.js";
import type { Pool } from "../pool/schema.js";
import type { PoolStore } from "../pool/store.js";
import { floorsFromSettings } from "../pool/select.js";
import { applySnapshot } from "../quota/commit.js";
import { probeAccount } from "../quota/probe-account.js";
import { chooseAccount, reuseRecentProbes } from "./choose.js";
import { busyAccounts, defaultAliveCheck, LiveSessionRecord } from "./live-sessions.js";
import {
  afterChild,
  findPdeathWrapper,
  isExecKind,
  launchCodex,
  prepareLaunch,
  type PreparedLaunch,
} from "./launch.js";
import type { MachineConfig } from "./machine.js";
import { pressureOf } from "./pressure.js";
import {
  formatSwitchLine,
  attributionJson,
  attributionLine,
  countdownLine,
  exhaustedMessage,
} from "./render.js";
import { startSession, type SessionPorts } from "./run-session.js";
import { installSignalGuard, type SignalSource } from "./signals.js";
import { saveTerminal, type TerminalGuard } from "./terminal.js";
import { startWatch } from "./watch.js";

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
  readonly fetch: typeof fetch;
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
  const floors = floorsFromSettings(settings);
  const refresher = new TokenRefresher({
    store,
    leasesDir: deps.paths.leasesDir,
    authUrl: settings.authUrl,
    skewSeconds: settings.refreshSkewSeconds,
    fetch: deps.fetch,
    clock,
  });
  const live = new LiveSessionRecord({ store, clock, onError: () => undefined });
  const probeDeps = {
    backendUrl: settings.backendUrl,
    fetch: deps.fetch,
    tokens: refresher,
    now: () => new Date(clock.now()),
  };
  const timeout = (signal: AbortSignal): AbortSignal =>
    AbortSignal.any([signal, AbortSignal.timeout(settings.probeTimeoutMs)]);
  const ownedElsewhere = (pool: Parameters<typeof busyAccounts>[0], id: string): boolean =>
    busyAccounts(pool, live.me, clock.now(), defaultAliveCheck).has(id);

  let sessionId: string | null = args.sessionId;
  /** A switch's launch, prepared while its choice is claimed (see ChooseDeps.chosen). */
  let prepared: { id: string; plan: Promise<PreparedLaunch | null> } | null = null;
  /** The pool as a switch's claim left it, and when: its switch line shows it (no re-read). */
  let claimedPool: { pool: Pool; at: number } | null = null;
  const knownFile = { current: null as string | null };
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
    sessionId: () => sessionId,
    chosen: (account: Parameters<typeof prepareLaunch>[1], owned: boolean) => {
      const plan = prepareLaunch(launchDeps, account, owned).catch(() => null);
      prepared = { id: account.id, plan };
    },
    claimed: (pool: Pool) => {
      claimedPool = { pool, at: clock.now() };
    },
    // One check serves a prewarm and the switch right after it (an exec limit starts both).
    probe: reuseRecentProbes(
      (account, codexOwned, signal) =>
        probeAccount(account, probeDeps, { signal: timeout(signal), codexOwned }),
      clock,
    ),
  };
  const launchDeps = {
    store,
    settings,
    env: deps.env,
    clock,
    homesDir: deps.paths.homesDir,
    binary,
    args,
    cwd,
    ownedElsewhere,
    tokensFresh: (tokens: Parameters<TokenRefresher["isFresh"]>[0]) => refresher.isFresh(tokens),
    ensureFresh: (id: string) => refresher.ensureFresh(id),
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

  let guard: ReturnType<typeof installSignalGuard> | null = null;
  // A TUI stopped for a switch leaves the terminal raw; each relaunch starts from the user's own.
  const terminal: TerminalGuard | null = mode === "tui" ? await saveTerminal() : null;
  const served: string[] = [];
  const ports: SessionPorts = {
    clock,
    select: (request, signal) => {
      prepared = null; // only the choice this selection makes may be prepared
      claimedPool = null;
      return chooseAccount(chooseDeps, request, signal);
    },
    prewarm: async (exclude, signal) => {
      const r = await chooseAccount(
        chooseDeps,
        { exclude, preferred: null, purpose: "switch" },
        signal,
        {
          commit: false,
        },
      );
      return r.kind === "selected" ? r.account : null;
    },
    launch: (account, resume, beforeSpawn) => {
      const early = prepared?.id === account.id ? prepared.plan : undefined;
      prepared = null;
      const relaunch = served.length > 0;
      if (served.at(-1) !== account.label) served.push(account.label);
      const ready = async (): Promise<void> => {
        if (relaunch) await terminal?.restore();
        await beforeSpawn();
      };
      return launchCodex(launchDeps, account, resume, ready, early);
    },
    watch: (request, emit) =>
      startWatch(
        {
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
          onError: (error) => out.info(`watching the session: ${errorMessage(error)}`),
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
        },
        request,
        (event) => {
          if (event.type === "bound") sessionId = event.sessionId;
          emit(event);
        },
      ),
    adoptTokens: (account) => afterChild(launchDeps, account),
    publish: (entry) => live.set(entry),
    setChild: (child) => guard?.setChild(child),
    notice: (message) => out.info(message),
    announceSwitch: async (id, from, to, cause) => {
      // A TUI's switch comes after its child stopped: a claim older than that is read again.
      const recent = claimedPool !== null && clock.now() - claimedPool.at <= CLAIM_REUSE_MS;
      const source = recent && claimedPool !== null ? claimedPool.pool : store;
      const line = await formatSwitchLine(source, clock, id, from, to, cause).catch(
        () => `session ${id} moved from ${from.label} to ${to.label}`,
      );
      out.info(line);
      await flushed(out.stderr);
    },
    attribute: (account, previous, cause, code) => {
      out.info(attributionLine(account, previous, cause, code));
      if (json) out.line(attributionJson(account, previous, cause, code, sessionId));
    },
    countdown: (remainingMs, exhaustion) => {
      if (remainingMs === null) out.clearProgress();
      else out.progress(countdownLine(remainingMs, exhaustion, clock.now()));
    },
  };

  const session = startSession(ports, {
    config,
    killGraceMs: settings.killGraceSeconds * 1000,
    sessionId: args.sessionId,
  });
  guard = installSignalGuard({
    source: options.signals ?? process,
    childRunning: () => session.childRunning(),
    onSignal: (signal) => session.signal(signal),
  });
  try {
    const result = await session.done;
    await terminal?.restore();
    if (mode === "tui" && served.length > 1) {
      // The switch lines scrolled away under the TUI: say once where the session went.
      const who = sessionId !== null ? `session ${sessionId.slice(0, 8)}…` : "the session";
      out.info(`${who} ran on ${served.join(" → ")}`);
    }
    if (result.exhaustion !== null) {
      const { message, earliest } = exhaustedMessage(result.exhaustion, clock.now(), sessionId);
      throw new PoolExhaustedError(message, earliest === null ? null : new Date(earliest));
    }
    return result.code;
  } finally {
    guard[Symbol.dispose]();
    await live.close().catch(() => undefined);
  }
}
