/**
 * The session's switching port (docs/supervisor.md): live when the mode says so (mode.ts), with an
 * automatic, announced fall-back to relaunching (docs/decisions.md decision 11). The machine sees
 * one port throughout and never learns which mechanism runs.
 *
 * Falling back happens
 * - before codex runs: the app-server did not start (or is gone by the next start or move), so
 *   that start or move is done by relaunching instead (LiveUnavailableError);
 * - under a running session: the app-server refused the first login, or died. The live port
 *   stops its codex without reporting its end (`broken`), and the session is resumed by
 *   relaunching (`codex resume <id>`, or the user's own command line when nothing ran yet).
 * From then on every call goes to the relaunch port, for the rest of the session.
 */
import { CancelledError, errorMessage } from "../platform/errors.js";
import { LiveUnavailableError } from "./live-errors.js";
import type { Broken, LivePort } from "./live.js";
import type { AccountRef } from "./machine.js";
import type { SwitchMode } from "./mode.js";
import type { RelaunchPort } from "./relaunch.js";
import type { MoveRequest, StartRequest, SwitchEvent, SwitchingPort } from "./session-ports.js";

export interface SessionSwitcher extends SwitchingPort {
  /** How the session moves now (a live session may have fallen back to relaunching). */
  mode(): SwitchMode;
  /** A line for the user now, where codex lets one be seen (the live TUI's own warnings). */
  tell(line: string): void;
  /** A switch's selection names its candidate: live mode logs it in ahead (LivePort.preLogin). */
  preLogin(account: AccountRef): void;
  /** The selection ended without a move: undo a login ahead (LivePort.abandonPreLogin). */
  abandonPreLogin(): Promise<void>;
  /** Settles once quota observations in flight are stored; false when there were none. */
  quotaSettled(): Promise<boolean>;
}

export interface SwitcherOptions {
  readonly initial: SwitchMode;
  /** Makes the live port (only when the session starts live). */
  live(broken: Broken): LivePort;
  readonly relaunch: RelaunchPort;
  /** Live mode gave way to relaunching: one line for the user, said once. */
  fellBack(reason: string): void;
  emit(event: SwitchEvent): void;
}

export function createSwitcher(options: SwitcherOptions): SessionSwitcher {
  const { relaunch } = options;
  let mode: SwitchMode = options.initial;
  /** A fall-back resuming a running session: its relaunch, and how to give it up. */
  let handover: { done: Promise<void>; abort: AbortController } | null = null;
  let live: LivePort | null = null;

  const fallBack = async (reason: string): Promise<void> => {
    if (mode === "relaunch") return;
    mode = "relaunch";
    options.fellBack(reason);
    await live?.close(); // the app-server and its home: nothing runs on them any more
  };

  const broken: Broken = (reason, request) => {
    const abort = new AbortController();
    const done = fallBack(reason)
      .then(() => relaunch.start(request, abort.signal))
      .catch((error: unknown) => {
        // The codex that stopped was never reported as ended: its end is now, with this failure.
        if (!(error instanceof CancelledError)) {
          options.emit({
            type: "warning",
            message: `resuming the session: ${errorMessage(error)}`,
          });
        }
        options.emit({ type: "exited", code: 1 });
      })
      .finally(() => {
        handover = null;
      });
    handover = { done, abort };
  };

  if (options.initial === "live") live = options.live(broken);

  /** Runs `op` live; when live mode cannot serve it, falls back and runs `fallback` instead. */
  const either = async (
    op: (port: LivePort) => Promise<void>,
    fallback: () => Promise<void>,
  ): Promise<void> => {
    if (handover !== null) await handover.done;
    if (mode === "live" && live !== null) {
      try {
        await op(live);
        return;
      } catch (error) {
        if (!(error instanceof LiveUnavailableError)) throw error;
        await fallBack(error.message);
      }
    }
    await fallback();
  };

  return {
    mode: () => mode,

    tell(line) {
      if (mode === "live") live?.tell(line);
    },

    preLogin(account) {
      if (mode === "live" && handover === null) live?.preLogin(account);
    },

    abandonPreLogin: () =>
      mode === "live" && live !== null ? live.abandonPreLogin() : Promise.resolve(),

    quotaSettled: () =>
      mode === "live" && live !== null ? live.quotaSettled() : Promise.resolve(false),

    start: (request: StartRequest, signal) =>
      either(
        (port) => port.start(request, signal),
        () => relaunch.start(request, signal),
      ),

    move: (request: MoveRequest, signal) =>
      either(
        (port) => port.move(request, signal),
        () => relaunch.move(request, signal),
      ),

    async stop() {
      if (handover !== null) {
        handover.abort.abort(new CancelledError("stopped before codex started"));
        await handover.done;
      }
      if (mode === "live" && live !== null) await live.stop();
      else await relaunch.stop();
    },

    running() {
      if (handover !== null) return true; // codex is between two processes: it owns the keys
      return mode === "live" && live !== null ? live.running() : relaunch.running();
    },

    async release() {
      if (handover !== null) await handover.done;
      return mode === "live" && live !== null ? live.release() : relaunch.release();
    },

    async close() {
      if (handover !== null) await handover.done;
      await live?.close();
      await relaunch.close();
    },
  };
}
