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
 *   does not start within continuationTimeoutSeconds. The login is about half of a live switch
 *   (codex answers it no sooner than ~65 ms after a usage limit, docs/codex-app-server.md §8), so
 *   it starts as soon as the switch's selection names its candidate (`preLogin`), while the
 *   selection claims it; the move then finds it done.
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
import type { SuppliedAccount } from "../app-server/messages.js";
import { serverOptions } from "../codex/remote-args.js";
import type { ChildOutcome, SpawnedCodex } from "../codex/spawn.js";
import { CancelledError, errorMessage } from "../platform/errors.js";
import { LiveAccount } from "./live-account.js";
import { spawnAttached } from "./live-client.js";
import { sendContinuation } from "./live-continuation.js";
import { LiveUnavailableError } from "./live-errors.js";
import { liveEventHandler } from "./live-events.js";
import { startLiveServer, type LiveServer } from "./live-server.js";
import { LiveTurns } from "./live-turns.js";
import type { Broken, LiveClient, LiveDeps, LivePort, LiveState } from "./live-types.js";
import type { MoveRequest, StartRequest, SwitchEvent } from "./session-ports.js";
import { stopChild } from "./stop-child.js";

export { LiveUnavailableError } from "./live-errors.js";
// The port's interface, so its users import it from one module.
export type { Broken, LiveDeps, LivePort } from "./live-types.js";

export function createLivePort(
  deps: LiveDeps,
  emit: (event: SwitchEvent) => void,
  broken: Broken,
): LivePort {
  const tui = deps.mode === "tui";
  const server = serverOptions(deps.args, deps.cwd);
  const state: LiveState = {
    server: null,
    dead: false,
    closing: false,
    client: null,
    bound: null,
    attachedOnce: false,
    pendingContinuation: null,
  };
  const turns = new LiveTurns({
    emit: (event) => {
      if (!state.closing) emit(event);
    },
    storeLimit: () => account.limitHit(),
  });
  const reported = new Set<string>();

  const reportOnce = (line: string): void => {
    if (reported.has(line)) return;
    reported.add(line);
    deps.report.add(line);
  };

  const liveController = (): LiveServer["controller"] => {
    if (state.server === null || state.dead) {
      throw new LiveUnavailableError("codex app-server is not running");
    }
    return state.server.controller;
  };

  /** The account the app-server holds: its tokens (the pool refreshes them) and its quota. */
  const account = new LiveAccount({
    clock: deps.clock,
    tokens: deps.tokens,
    refreshSkewMs: deps.refreshSkewMs,
    quotaPollMs: deps.quotaPollMs,
    controller: liveController,
    observe: (id, snapshot) => deps.observe(id, snapshot),
    probe: (id, signal) => deps.probe(id, signal),
    replacement: (exclude, signal) => deps.replacement(exclude, signal),
    onPressure: (event) => {
      if (!state.closing) emit(event);
    },
    onReplaced: (next) => emit({ type: "accountReplaced", account: next }),
    warn: reportOnce,
  });

  // --- the app-server and its events -----------------------------------------------------------

  const continueSession = (text: string): void =>
    sendContinuation(liveController(), text, {
      clock: deps.clock,
      timeoutMs: deps.continuationTimeoutMs,
      missed: () => emit({ type: "continuationMissed" }),
      refused: reportOnce,
      closing: () => state.closing,
    });

  const onLive = liveEventHandler({
    tui,
    state,
    turns,
    account,
    deps,
    broken,
    continueSession,
    reportOnce,
  });

  const ensureServer = async (supplied: SuppliedAccount): Promise<LiveServer> => {
    if (state.dead) throw new LiveUnavailableError("codex app-server is no longer running");
    if (state.server !== null) return state.server;
    const live = await startLiveServer({
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
    state.server = live;
    return live;
  };

  // --- the codex client ------------------------------------------------------------------------

  const ended = async (running: LiveClient, outcome: ChildOutcome): Promise<number> => {
    const warn = (what: string) => (error: unknown) => {
      deps.report.add(`${what}: ${errorMessage(error)}`);
    };
    if (state.client === running) state.client = null;
    deps.onChild(null);
    if (!running.quiet) turns.abandon();
    if (tui) await deps.terminal?.afterCodex(outcome.signal !== null).catch(warn("the terminal"));
    for (const line of deps.report.take()) deps.screen.line(line);
    if (tui) await deps.screen.release().catch(() => undefined); // the terminal went away
    await account.flush(); // what its last turn said of the quota is in the pool
    await turns.handedOver(); // its last turn's events come first
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
      spawned = await spawnAttached(deps, controller, state.server?.appServer.home ?? "", resume);
    } catch (error) {
      if (tui) await deps.screen.release();
      throw error;
    }
    deps.onChild(spawned.child);
    const running: LiveClient = {
      child: spawned.child,
      account: request.account,
      request,
      quiet: false,
      done: Promise.resolve(0),
    };
    running.done = spawned.exited.then((outcome) => ended(running, outcome));
    state.client = running;
    if (request.sessionId !== null) state.bound = request.sessionId;
    if (tui && resume?.continuation === true) {
      state.pendingContinuation = deps.settings.continuationPrompt;
    }
  };

  const stopClient = async (quiet: boolean): Promise<void> => {
    const running = state.client;
    if (running === null) return;
    if (quiet) running.quiet = true;
    await stopChild(running.child, { graceMs: deps.killGraceMs, clock: deps.clock });
    await running.done;
  };

  const shutdown = async (): Promise<void> => {
    state.closing = true;
    account.stop();
    const was = state.server;
    state.server = null;
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
      if (state.client !== null) throw new Error("codex already runs for this session");
      await launch(request, signal);
    },

    async move(request: MoveRequest, signal) {
      const controller = liveController();
      if (!(request.resend && request.to.id === account.current?.id)) {
        await account.moveTo(request.to, signal);
      }
      if (request.continuation) {
        if (controller.sessionThreadId() !== null)
          continueSession(deps.settings.continuationPrompt);
        else state.pendingContinuation = deps.settings.continuationPrompt;
      }
    },

    async stop() {
      await stopClient(false);
    },

    running: () => state.client !== null,

    async release() {
      const running = state.client;
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
      if (tui && state.server !== null && !state.dead) {
        state.server.controller.notifyUser(`codex-pool: ${line}`);
      }
    },

    preLogin(ref) {
      const { server, dead, closing, client } = state;
      if (server !== null && !dead && !closing && client !== null) account.loginAhead(ref);
    },

    abandonPreLogin: () =>
      state.dead || state.closing ? Promise.resolve() : account.abandonAhead(),

    quotaSettled: () => turns.quotaSettled(),
  };
}
