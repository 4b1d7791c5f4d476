/**
 * Our own signals while a session is supervised (docs/decisions.md decision 8, docs/style.md rules 21/25):
 * - SIGINT: while a child runs it owns the terminal and its keys (the TUI runs with ISIG off, and
 *   a Ctrl+C keypress reaches it as input), so a SIGINT sent to the whole foreground group must not
 *   kill us: it is ignored. With no child (waiting for a reset) it means "leave" and is reported.
 * - SIGTERM/SIGHUP: reported; the session stops the child and ends with 143/129.
 * - Our own exit, whatever its cause (an uncaught error, process.exit): the child is killed, so it
 *   never lingers holding the terminal. If we are SIGKILLed, the child's parent-death signal
 *   (launch.ts) does the same.
 * Handlers are installed by `install` and removed by the returned disposer; nothing at import.
 */
import type { ChildProcess } from "node:child_process";
import type { ExitSignal } from "./machine.js";
import { signalChild } from "./stop-child.js";

/** The part of `process` we use, so tests can pass an EventEmitter. */
export interface SignalSource {
  on(event: ExitSignal | "exit", listener: (...args: unknown[]) => void): unknown;
  off(event: ExitSignal | "exit", listener: (...args: unknown[]) => void): unknown;
}

export interface SignalGuard extends Disposable {
  /** The child to kill if we exit while it runs (null when none runs). */
  setChild(child: ChildProcess | null): void;
}

export interface SignalGuardOptions {
  source: SignalSource;
  /** Whether a child currently owns the terminal (SIGINT is then ignored). */
  childRunning(): boolean;
  onSignal(signal: ExitSignal): void;
}

export function installSignalGuard(options: SignalGuardOptions): SignalGuard {
  const { source } = options;
  let child: ChildProcess | null = null;
  const onInt = (): void => {
    if (!options.childRunning()) options.onSignal("SIGINT");
  };
  const onTerm = (): void => options.onSignal("SIGTERM");
  const onHup = (): void => options.onSignal("SIGHUP");
  // 'exit' handlers may only do synchronous work: kill() is synchronous.
  const onExit = (): void => {
    if (child) signalChild(child, "SIGKILL");
  };
  source.on("SIGINT", onInt);
  source.on("SIGTERM", onTerm);
  source.on("SIGHUP", onHup);
  source.on("exit", onExit);
  return {
    setChild(next) {
      child = next;
    },
    [Symbol.dispose]() {
      source.off("SIGINT", onInt);
      source.off("SIGTERM", onTerm);
      source.off("SIGHUP", onHup);
      source.off("exit", onExit);
      child = null;
    },
  };
}

/** Pauses our stdin while a child owns the terminal, so we never read the user's keys. */
export function pauseStdin(stdin: NodeJS.ReadStream | null): () => void {
  if (!stdin || stdin.isPaused()) return () => undefined;
  stdin.pause();
  return () => {
    stdin.resume();
  };
}
