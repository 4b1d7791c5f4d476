/**
 * The live switching port (docs/supervisor.md, docs/decisions.md decision 11): one codex for the
 * whole session, attached to an app-server codex-pool starts and relays (live-server.ts,
 * docs/codex-app-server.md §7). The TUI runs once; each `exec --remote` run is a client of the same
 * server.
 *
 * - `start` launches the app-server (once), then codex attached to it, on the account whose access
 *   token the relay logs in before the client sees the server (§7.4). A TUI resuming the session
 *   after a wait gets its continuation as a turn (`turn/start`, confirmed by `turn/started`), not
 *   on its command line (a resumed TUI sometimes drops a start-up prompt, docs/supervisor.md).
 * - `move` waits for every turn to end, logs the next account in (never during a turn, §3), and
 *   submits the continuation when one is due; `continuationMissed` when it is refused or its turn
 *   does not start within continuationTimeoutSeconds. The login is most of a live switch's time
 *   (docs/codex-app-server.md §9), so it starts as soon as the switch's selection names its
 *   candidate (`preLogin`), while the selection claims it; the move then finds it done.
 * - Turn boundaries, the usage limit (`error` with usageLimitExceeded) and quota
 *   (`account/rateLimits/updated`, parsed by src/quota/parse-rate-limits.ts) come from the
 *   relay's notifications; the session is bound by its thread id (the rollout's session id).
 * - The pool owns every refresh (live-tokens.ts): the token handed over is replaced between turns
 *   ahead of its expiry, and codex's refresh request after a 401 is answered with the same account
 *   refreshed or, when that account can no longer sign in, the next one (`accountReplaced`).
 * - When live mode cannot go on (the app-server refused the first login, or died), `broken` hands
 *   the session to the caller (switcher.ts), which resumes it by relaunching.
 *
 * Codex owns the screen for the whole session: lines are held until it exits (screen.ts) and are
 * also shown now among the TUI's own warnings (`tell`, docs/codex-app-server.md §8).
 */
import type { ChildProcess } from "node:child_process";
import type { LiveEvent } from "../app-server/events.js";
import type { SuppliedAccount } from "../app-server/messages.js";
import type { ClassifiedArgs } from "../codex/args.js";
import type { CodexBinary } from "../codex/binary.js";
import { serverOptions } from "../codex/remote-args.js";
import type { ChildOutcome, SpawnedCodex } from "../codex/spawn.js";
import type { Clock } from "../platform/clock.js";
import { CancelledError, errorMessage } from "../platform/errors.js";
import type { Env } from "../platform/paths.js";
import type { Settings } from "../platform/settings-table.js";
import type { QuotaSnapshot } from "../pool/schema.js";
import { LiveAccount } from "./live-account.js";
import { spawnAttached } from "./live-client.js";
import { LiveUnavailableError } from "./live-errors.js";
import { startLiveServer, type LiveServer } from "./live-server.js";
import type { LiveTokenDeps } from "./live-tokens.js";
import type { AccountRef, Mode } from "./machine.js";
import type { SessionReport } from "./report.js";
import type { ScreenGate } from "./screen.js";
import type { MoveRequest, StartRequest, SwitchEvent, SwitchingPort } from "./session-ports.js";
import { stopChild } from "./stop-child.js";
import type { TerminalControl } from "./terminal.js";
import type { WatchEvent } from "./watch.js";

export { LiveUnavailableError } from "./live-errors.js";

export interface LiveDeps {
  readonly clock: Clock;
  readonly mode: Mode;
  readonly settings: Settings;
  readonly env: Env;
  readonly binary: CodexBinary;
  readonly args: ClassifiedArgs;
  readonly cwd: string;
  readonly homesDir: string;
  readonly pdeathWrapper: string | null;
  readonly tokens: LiveTokenDeps;
  readonly killGraceMs: number;
  readonly continuationTimeoutMs: number;
  readonly quotaPollMs: number;
  readonly refreshSkewMs: number;
  readonly screen: ScreenGate;
  /** null: no terminal to give back (exec, or not a terminal). */
  readonly terminal: TerminalControl | null;
  readonly report: SessionReport;
  /** The codex process to kill if we exit (signals.ts). */
  onChild(child: ChildProcess | null): void;
  /** Stores a quota observation of an account and returns the pressure it puts on it. */
  observe(accountId: string, snapshot: QuotaSnapshot): Promise<WatchEvent | null>;
  /** The account's /wham/usage now (the pool's tokens: the pool owns the refresh here). */
  probe(accountId: string, signal: AbortSignal): Promise<QuotaSnapshot | null>;
  /** Chooses and claims the next account when the running one can no longer sign in. */
  replacement(exclude: readonly string[], signal: AbortSignal): Promise<AccountRef | null>;
}

export interface LivePort extends SwitchingPort {
  /** Shows a line for the user among the TUI's warnings now (it is held for after, too). */
  tell(line: string): void;
  /**
   * A switch's selection names `account` as its candidate (the session is between turns): log it
   * in now, while the selection checks and claims it. The move finds it done (or, moving to
   * another account, waits for it and logs that one in). Nothing happens while a turn runs.
   */
  preLogin(account: AccountRef): void;
  /**
   * The switch's selection ended without a move (no account usable): the account the session runs
   * on is logged back in if a login ahead replaced it. Settles once done.
   */
  abandonPreLogin(): Promise<void>;
  /** Settles once every quota observation in flight is stored; false when there was none. */
  quotaSettled(): Promise<boolean>;
}

/** Live mode stopped working under a running session: resume it by relaunching with `resume`. */
export type Broken = (reason: string, resume: StartRequest) => void;

interface Client {
  readonly child: ChildProcess;
  readonly account: AccountRef;
  /** The start that made it (what a fall-back starts again when the login was refused at once). */
  readonly request: StartRequest;
  /** Its end is not reported (stopped for a fall-back, released, or closed). */
  quiet: boolean;
  /** Settles with its exit code once its end was handled (terminal, lines). */
  done: Promise<number>;
}

/** What the port knows of the session's turns (non-ephemeral ones only: the title turn is codex's). */
interface Turns {
  running: Set<string>;
  /** Turns that failed on the usage limit. */
  limited: Set<string>;
}

export function createLivePort(
  deps: LiveDeps,
  emit: (event: SwitchEvent) => void,
  broken: Broken,
): LivePort {
  const tui = deps.mode === "tui";
  const server = serverOptions(deps.args, deps.cwd);
  let live: LiveServer | null = null;
  let dead = false;
  let closing = false;
  let client: Client | null = null;
  let bound: string | null = null;
  let attachedOnce = false;
  const turns: Turns = { running: new Set(), limited: new Set() };
  /** Limits being stored: a selection that finds every account out waits for them (index.ts). */
  const storing = new Set<Promise<void>>();
  const limitHit = (): void => {
    const stored = account.limitHit();
    storing.add(stored);
    void stored.finally(() => storing.delete(stored));
  };
  /** Turn events reach the machine in order, each after what it waits for (a limit's store). */
  let order: Promise<void> = Promise.resolve();
  const inOrder = (event: SwitchEvent, after: Promise<void> = Promise.resolve()): void => {
    order = order
      .then(() => after)
      .then(() => {
        if (!closing) emit(event);
      });
  };
  /** A TUI started to resume the session: its continuation goes out once its thread is known. */
  let pendingContinuation: string | null = null;
  const reported = new Set<string>();

  const reportOnce = (line: string): void => {
    if (reported.has(line)) return;
    reported.add(line);
    deps.report.add(line);
  };

  const liveController = (): LiveServer["controller"] => {
    if (live === null || dead) throw new LiveUnavailableError("codex app-server is not running");
    return live.controller;
  };

  /** The account the app-server holds: its tokens (the pool refreshes them) and its quota. */
  const account = new LiveAccount({
    clock: deps.clock,
    tokens: deps.tokens,
    refreshSkewMs: deps.refreshSkewMs,
    quotaPollMs: deps.quotaPollMs,
    probeTimeoutMs: deps.settings.probeTimeoutMs,
    controller: liveController,
    observe: (id, snapshot) => deps.observe(id, snapshot),
    probe: (id, signal) => deps.probe(id, signal),
    replacement: (exclude, signal) => deps.replacement(exclude, signal),
    onPressure: (event) => {
      if (!closing) emit(event);
    },
    onReplaced: (next) => emit({ type: "accountReplaced", account: next }),
    warn: reportOnce,
  });

  // --- the app-server and its events -----------------------------------------------------------

  const sendContinuation = (text: string): void => {
    const controller = liveController();
    let settled = false;
    const timer = deps.clock.setTimer(
      () => {
        if (settled) return;
        settled = true;
        emit({ type: "continuationMissed" });
      },
      deps.continuationTimeoutMs,
      { weak: true },
    );
    controller.startTurn(text).then(
      () => {
        settled = true;
        timer.cancel();
      },
      (error: unknown) => {
        timer.cancel();
        if (settled || closing) return;
        settled = true;
        // Refused (e.g. the user's own turn got there first): the machine judges what is left.
        reportOnce(`the continuation was not taken: ${errorMessage(error)}`);
        emit({ type: "continuationMissed" });
      },
    );
  };

  const onServerGone = (reason: string): void => {
    if (dead || closing) return;
    dead = true;
    account.stop();
    const running = client;
    if (running === null) return; // the next start or move finds it dead and falls back
    if (!tui) {
      // exec ends by itself without its server; its end is reported as it is, with why.
      deps.report.add(
        `${reason}${bound !== null ? `; continue with \`codex-pool run -- exec resume ${bound} "…"\`` : ""}`,
      );
      return;
    }
    // The TUI would keep "Reconnecting…" for ever (§8): stop it, then resume the session by
    // relaunching codex.
    running.quiet = true;
    if (turns.running.size > 0) {
      turns.running.clear();
      inOrder({ type: "turnEnded", limitHit: false });
    }
    void stopChild(running.child, { graceMs: deps.killGraceMs, clock: deps.clock })
      .then(() => running.done)
      .then(() => {
        const sessionId = bound ?? running.request.sessionId;
        broken(reason, {
          account: account.current ?? running.account,
          sessionId,
          resume: sessionId === null ? null : { sessionId, continuation: false },
        });
      });
  };

  const onLive = (event: LiveEvent): void => {
    if (closing) return;
    switch (event.type) {
      case "attached":
        attachedOnce = true;
        return;
      case "loginFailed": {
        const running = client;
        if (attachedOnce || running === null) {
          reportOnce(`codex app-server refused the account: ${event.message}`);
          return;
        }
        // Refused before codex ever saw the server (its connection was closed): run the same
        // start by relaunching instead.
        dead = true;
        running.quiet = true;
        void stopChild(running.child, { graceMs: deps.killGraceMs, clock: deps.clock })
          .then(() => running.done)
          .then(() =>
            broken(`codex app-server refused the login: ${event.message}`, running.request),
          );
        return;
      }
      case "appServerExited":
        onServerGone(
          `codex app-server exited (${event.outcome.signal ?? `exit ${event.outcome.exitCode}`})`,
        );
        return;
      case "sessionThread":
        if (event.threadId !== bound) {
          bound = event.threadId;
          inOrder({ type: "bound", sessionId: event.threadId });
        }
        if (pendingContinuation !== null) {
          const text = pendingContinuation;
          pendingContinuation = null;
          sendContinuation(text);
        }
        return;
      case "turnStarted":
        if (event.ephemeral) return;
        turns.running.add(event.turnId);
        inOrder({ type: "turnStarted" });
        return;
      case "turnError":
        if (event.usageLimit && !turns.limited.has(event.turnId)) {
          turns.limited.add(event.turnId);
          limitHit();
        }
        return;
      case "turnCompleted": {
        if (event.ephemeral || !turns.running.delete(event.turnId)) return;
        const sawError = turns.limited.delete(event.turnId);
        const hit = sawError || event.error?.codexErrorInfo === "usageLimitExceeded";
        if (hit && !sawError) limitHit();
        // Told at once, the limit being stored meanwhile: the switch's selection excludes this
        // account anyway, and one that finds every account out waits for the store first.
        inOrder({ type: "turnEnded", limitHit: hit });
        return;
      }
      case "rateLimits":
        account.rateLimitsUpdated(event.rateLimits);
        return;
      case "malformed":
        reportOnce(
          `codex app-server sent ${event.method} in a shape codex-pool does not know (${event.detail})`,
        );
        return;
      case "refreshFailed":
        reportOnce(`answering codex's request for fresh tokens: ${event.message}`);
        return;
      case "failure":
      case "detached":
      case "accountApplied":
        return;
    }
  };

  const ensureServer = async (supplied: SuppliedAccount): Promise<LiveServer> => {
    if (dead) throw new LiveUnavailableError("codex app-server is no longer running");
    if (live !== null) return live;
    live = await startLiveServer({
      binary: deps.binary,
      settings: deps.settings,
      env: deps.env,
      homesDir: deps.homesDir,
      cwd: server.cwd,
      config: server.config,
      pdeathWrapper: deps.pdeathWrapper,
      account: supplied,
      refresh: () => account.answerRefresh(),
    });
    live.controller.on(onLive);
    return live;
  };

  // --- the codex client ------------------------------------------------------------------------

  const ended = async (running: Client, outcome: ChildOutcome): Promise<number> => {
    const warn = (what: string) => (error: unknown) => {
      deps.report.add(`${what}: ${errorMessage(error)}`);
    };
    if (client === running) client = null;
    deps.onChild(null);
    if (turns.running.size > 0 && !running.quiet) turns.running.clear();
    if (tui) await deps.terminal?.afterCodex(outcome.signal !== null).catch(warn("the terminal"));
    for (const line of deps.report.take()) deps.screen.line(line);
    if (tui) await deps.screen.release().catch(() => undefined); // the terminal went away
    await account.flush(); // what its last turn said of the quota is in the pool
    await order; // its last turn's events come first
    if (!running.quiet) emit({ type: "exited", code: outcome.code128 });
    return outcome.code128;
  };

  const launch = async (request: StartRequest, signal: AbortSignal): Promise<void> => {
    const supplied = await account.supply(request.account);
    if (signal.aborted) throw new CancelledError("stopped before codex started");
    const { controller } = await ensureServer(supplied.supplied);
    if (signal.aborted) throw new CancelledError("stopped before codex started");
    await controller.login(supplied.supplied); // deferred: applied as the client attaches
    account.holds(request.account, supplied);
    const resume = request.resume;
    // Every line queued so far (the switch line) is out before codex takes the screen.
    await deps.screen.drain();
    if (signal.aborted) throw new CancelledError("stopped before codex started");
    if (tui) deps.screen.own();
    let spawned: SpawnedCodex;
    try {
      spawned = await spawnAttached(deps, controller, live?.appServer.home ?? "", resume);
    } catch (error) {
      if (tui) await deps.screen.release();
      throw error;
    }
    deps.onChild(spawned.child);
    const running: Client = {
      child: spawned.child,
      account: request.account,
      request,
      quiet: false,
      done: Promise.resolve(0),
    };
    running.done = spawned.exited.then((outcome) => ended(running, outcome));
    client = running;
    if (request.sessionId !== null) bound = request.sessionId;
    if (tui && resume?.continuation === true)
      pendingContinuation = deps.settings.continuationPrompt;
  };

  const stopClient = async (quiet: boolean): Promise<void> => {
    const running = client;
    if (running === null) return;
    if (quiet) running.quiet = true;
    await stopChild(running.child, { graceMs: deps.killGraceMs, clock: deps.clock });
    await running.done;
  };

  const shutdown = async (): Promise<void> => {
    closing = true;
    account.stop();
    const was = live;
    live = null;
    if (was === null) return;
    try {
      const folded = await was.stop(deps.killGraceMs);
      if (folded.dropped.length > 0) {
        deps.report.add(
          `kept the newer copy of ${folded.dropped.join(", ")} in ${deps.settings.codexHome}; the older copy codex had written meanwhile was dropped`,
        );
      }
    } catch (error) {
      deps.report.add(`stopping codex app-server: ${errorMessage(error)}`);
    }
  };

  return {
    async start(request, signal) {
      if (client !== null) throw new Error("codex already runs for this session");
      await launch(request, signal);
    },

    async move(request: MoveRequest, signal) {
      const controller = liveController();
      if (!(request.resend && request.to.id === account.current?.id)) {
        await account.moveTo(request.to, signal);
      }
      if (request.continuation) {
        if (controller.sessionThreadId() !== null)
          sendContinuation(deps.settings.continuationPrompt);
        else pendingContinuation = deps.settings.continuationPrompt;
      }
    },

    async stop() {
      await stopClient(false);
    },

    running: () => client !== null,

    async release() {
      const running = client;
      if (running === null) return null;
      running.quiet = true;
      const code = await running.done;
      await shutdown();
      return code;
    },

    async close() {
      // The machine ends only once codex is gone; a codex still here would be a bug: stop it.
      await stopClient(true);
      await shutdown();
      for (const line of deps.report.take()) deps.screen.line(line);
      await deps.screen.drain();
    },

    tell(line) {
      if (tui && live !== null && !dead) live.controller.notifyUser(`codex-pool: ${line}`);
    },

    preLogin(ref) {
      if (live !== null && !dead && !closing && client !== null) account.loginAhead(ref);
    },

    abandonPreLogin: () => (dead || closing ? Promise.resolve() : account.abandonAhead()),

    async quotaSettled() {
      if (storing.size === 0) return false;
      await Promise.allSettled([...storing]);
      return true;
    },
  };
}
