/**
 * The relaunch switching port (docs/supervisor.md; docs/decisions.md decision 5): each account runs
 * its own codex process. Moving the session stops codex at the turn boundary the machine chose
 * (SIGTERM, SIGKILL after killGraceSeconds), takes back the tokens it rotated, and starts
 * `codex resume <id>` (or `exec resume`) under the next account, with the continuation prompt
 * when the last turn failed on the usage limit. Turn boundaries, limits and quota come from the
 * session's rollout file (watch.ts).
 *
 * Around every codex TUI: the terminal is given back after it exits (terminal.ts) and lines for
 * the user are held while it owns the screen (screen.ts). A continuation is verified: the watcher
 * reads the rollout from its size before the spawn and reports `continuationMissed` when no turn
 * starts within continuationTimeoutSeconds (exec runs its prompt or exits, so only the TUI is
 * checked).
 *
 * State is explicit: `current` is the one codex this port runs (never two: a move stops the old
 * one before starting the next), and `inDoubt` the accounts whose tokens could not be taken back.
 */
import fs from "node:fs/promises";
import type { ChildProcess } from "node:child_process";
import { takeBackTokens } from "../codex/adopt.js";
import { accountHomePath } from "../codex/overlay-home.js";
import type { Clock } from "../platform/clock.js";
import { CancelledError, errorMessage } from "../platform/errors.js";
import type { Account } from "../pool/schema.js";
import {
  afterChild,
  launchCodex,
  prepareLaunch,
  type LaunchDeps,
  type LaunchedChild,
  type PreparedLaunch,
} from "./launch.js";
import type { AccountRef, Mode, ResumeRequest } from "./machine.js";
import type { SessionReport } from "./report.js";
import type { ScreenGate } from "./screen.js";
import type { MoveRequest, StartRequest, SwitchEvent, SwitchingPort } from "./session-ports.js";
import { stopChild } from "./stop-child.js";
import type { TerminalControl } from "./terminal.js";
import { findRolloutById } from "./bind.js";
import type { Watcher, WatchDeps, WatchRequest } from "./watch.js";

export interface RelaunchDeps {
  readonly clock: Clock;
  readonly mode: Mode;
  readonly launch: LaunchDeps;
  /** Starts a watcher on a launch (watch.ts startWatch with its dependencies bound). */
  watch(request: WatchRequest, emit: (event: SwitchEvent) => void): Watcher;
  readonly sessionsDir: string;
  /** The rollout file of the session once known (shared with the watchers). */
  readonly knownFile: WatchDeps["knownFile"];
  readonly killGraceMs: number;
  readonly continuationTimeoutMs: number;
  readonly screen: ScreenGate;
  /** null: no terminal to give back (exec, or not a terminal). */
  readonly terminal: TerminalControl | null;
  readonly report: SessionReport;
  /** The child to kill if we die (signals.ts). */
  onChild(child: ChildProcess | null): void;
}

/** One codex process of the session. */
interface Child {
  readonly account: AccountRef;
  readonly launched: LaunchedChild;
  readonly watcher: Watcher;
  /** Stopped for a move or released: its events and its end are not reported. */
  quiet: boolean;
  /** Settles with its exit code once its end was handled (terminal, lines, tokens). */
  done: Promise<number>;
}

export interface RelaunchPort extends SwitchingPort {
  /** A switch's launch can be prepared while its account is claimed (see ChooseDeps.chosen). */
  prepare(account: Account, ownedElsewhere: boolean): void;
  /** The tokens a child of `accountId` left could not be taken back: nothing may refresh it. */
  inDoubt(accountId: string): boolean;
  /**
   * Takes back what an earlier child (of this run or one that died) left in the account's overlay
   * home, before anything may refresh it (a selection's probe). false: they could not be read,
   * and the account stays in doubt.
   */
  settleTokens(account: Account): Promise<boolean>;
}

export function createRelaunchPort(
  deps: RelaunchDeps,
  emit: (event: SwitchEvent) => void,
): RelaunchPort {
  const tui = deps.mode === "tui";
  let current: Child | null = null;
  let prepared: { id: string; plan: Promise<PreparedLaunch | null> } | null = null;
  const inDoubt = new Set<string>();

  /** The rollout's size now: where the next codex's lines will start. */
  const rolloutSize = async (sessionId: string): Promise<number | "end"> => {
    const file = deps.knownFile.current ?? (await findRolloutById(deps.sessionsDir, sessionId));
    if (file === null) return "end";
    deps.knownFile.current = file;
    return fs.stat(file).then(
      (s) => s.size,
      () => "end" as const,
    );
  };

  /** Files codex wrote in an overlay home that lost to a newer copy in the real home. */
  const reportDropped = (dropped: readonly string[], account: AccountRef): void => {
    if (dropped.length === 0) return;
    deps.report.add(
      `kept the newer copy of ${dropped.join(", ")} in ${deps.launch.settings.codexHome}; the older copy codex had written for ${account.label} was dropped`,
    );
  };

  /**
   * After a child exited: its watcher drained, the terminal and the screen given back, its tokens
   * taken. Never rejects: whatever fails is reported, and the end is always told (a lost `exited`
   * would leave the session waiting for ever).
   */
  const ended = async (
    child: Child,
    outcome: { signal: NodeJS.Signals | null; code128: number },
  ): Promise<number> => {
    const warn = (what: string) => (error: unknown) => {
      deps.report.add(`${what}: ${errorMessage(error)}`);
    };
    await child.watcher.drain().catch(warn("watching the session"));
    if (current === child) current = null;
    deps.onChild(null);
    if (tui) await deps.terminal?.afterCodex(outcome.signal !== null).catch(warn("the terminal"));
    try {
      const after = await afterChild(deps.launch, child.account);
      inDoubt.delete(child.account.id);
      if (after !== null) reportDropped(after.reconciled.dropped, child.account);
    } catch (error) {
      // Nothing refreshes this account now; its next launch tries to take them back again first.
      inDoubt.add(child.account.id);
      deps.report.add(errorMessage(error));
    }
    for (const line of deps.report.take()) deps.screen.line(line);
    if (tui) await deps.screen.release().catch(() => undefined); // the terminal went away
    if (!child.quiet) emit({ type: "exited", code: outcome.code128 });
    return outcome.code128;
  };

  const launchOn = async (
    account: AccountRef,
    sessionId: string | null,
    resume: ResumeRequest | null,
    signal: AbortSignal,
  ): Promise<void> => {
    const early = prepared?.id === account.id ? prepared.plan : undefined;
    prepared = null;
    const from = sessionId === null ? 0 : await rolloutSize(sessionId);
    let owned = false;
    let launched: LaunchedChild;
    try {
      launched = await launchCodex(
        deps.launch,
        account,
        resume,
        async () => {
          // Every line queued so far (the switch line) is out before codex takes the screen.
          await deps.screen.drain();
          if (signal.aborted) throw new CancelledError("stopped before codex started");
          if (tui) {
            deps.screen.own();
            owned = true;
          }
        },
        early,
      );
    } catch (error) {
      if (owned) await deps.screen.release();
      throw error;
    }
    inDoubt.delete(account.id); // the launch took its tokens back (or had nothing to take)
    reportDropped(launched.recovered.dropped, account); // said after this codex exits
    deps.onChild(launched.child);
    const child: Child = {
      account,
      launched,
      quiet: false,
      done: Promise.resolve(0),
      watcher: deps.watch(
        {
          account,
          sessionId,
          launchedAt: deps.clock.now(),
          pid: launched.child.pid ?? null,
          from,
          expectTurnWithinMs:
            tui && resume?.continuation === true ? deps.continuationTimeoutMs : null,
        },
        (event) => {
          if (!child.quiet) emit(event);
        },
      ),
    };
    child.done = launched.exited.then((outcome) => ended(child, outcome));
    current = child;
  };

  /** Stops the current codex for good or for a move; settles once its end was handled. */
  const stopCurrent = async (quiet: boolean): Promise<void> => {
    const child = current;
    if (child === null) return;
    if (quiet) child.quiet = true;
    await stopChild(child.launched.child, { graceMs: deps.killGraceMs, clock: deps.clock });
    await child.done;
  };

  return {
    prepare(account, ownedElsewhere) {
      prepared = {
        id: account.id,
        plan: prepareLaunch(deps.launch, account, ownedElsewhere).catch(() => null),
      };
    },

    inDoubt: (accountId) => inDoubt.has(accountId),

    async settleTokens(account) {
      const home = accountHomePath(deps.launch.homesDir, account.id);
      try {
        await takeBackTokens({ store: deps.launch.store, home, account });
        inDoubt.delete(account.id);
        return true;
      } catch {
        // Said when a launch on it fails; until then it is only never refreshed.
        inDoubt.add(account.id);
        return false;
      }
    },

    async start(request: StartRequest, signal: AbortSignal) {
      if (current !== null) throw new Error("codex already runs for this session");
      await launchOn(request.account, request.sessionId, request.resume, signal);
    },

    async move(request: MoveRequest, signal: AbortSignal) {
      await stopCurrent(true);
      if (signal.aborted) throw new CancelledError("stopped before codex started");
      const resume = { sessionId: request.sessionId, continuation: request.continuation };
      await launchOn(request.to, request.sessionId, resume, signal);
    },

    async stop() {
      await stopCurrent(false);
    },

    running: () => current !== null,

    async release() {
      const child = current;
      if (child === null) return null;
      child.quiet = true;
      await child.watcher.stop();
      return child.done;
    },

    async close() {
      // The machine ends only once codex is gone; a codex still here would be a bug: stop it
      // rather than wait for it forever.
      await stopCurrent(true);
      for (const line of deps.report.take()) deps.screen.line(line);
      await deps.screen.drain();
    },
  };
}
