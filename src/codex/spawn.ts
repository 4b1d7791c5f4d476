/**
 * Running the codex child (docs/decisions.md decision 8, docs/style.md rules 21–24): listeners attached before
 * anything can go wrong, the outcome returned as a record, a signal death mapped to 128+n.
 */
import {
  spawn as nodeSpawn,
  type ChildProcess,
  type SpawnOptions,
  type StdioOptions,
} from "node:child_process";
import { constants } from "node:os";
import { CodexMissingError, errorMessage, hasErrorCode } from "../platform/errors.js";
import { CODEX_INSTALL_HINT, type CodexBinary } from "./binary.js";

export interface ChildOutcome {
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  /** What our own process should exit with: the code, or 128 + the signal's number. */
  readonly code128: number;
}

export interface SpawnCodexOptions {
  binary: Pick<CodexBinary, "path">;
  args: readonly string[];
  env: Record<string, string>;
  cwd?: string;
  stdio?: StdioOptions;
  /**
   * A process group of its own: for a server that must not get the terminal's signals (the live
   * mode's app-server, src/app-server/launcher.ts). Never for codex itself (below).
   */
  ownGroup?: boolean;
  /**
   * setpriv (src/supervisor/launch.ts findPdeathWrapper): codex is run through it with the
   * parent-death signal, so it dies with us even when we are killed outright (Linux).
   */
  pdeathWrapper?: string | null;
  /** Injected for tests; defaults to node:child_process spawn. */
  spawn?: (command: string, args: readonly string[], options: SpawnOptions) => ChildProcess;
}

export interface SpawnedCodex {
  readonly child: ChildProcess;
  /** Settles when the child is gone; rejects with CodexMissingError when it could not start. */
  readonly exited: Promise<ChildOutcome>;
}

/**
 * The exit code a shell shows for a child, and what our own process exits with after it: its
 * code, or 128 + the signal's number. The one rule for every child we run (run, the supervisor).
 * Neither known (an unknown signal name included) is a plain failure, 1: 128 would read as
 * "killed by signal 0".
 */
export function exitCodeOf(exitCode: number | null, signal: NodeJS.Signals | null): number {
  if (exitCode !== null) return exitCode;
  if (signal !== null) {
    const n = (constants.signals as Record<string, number | undefined>)[signal];
    if (n !== undefined) return 128 + n;
  }
  return 1;
}

export function outcomeOf(exitCode: number | null, signal: NodeJS.Signals | null): ChildOutcome {
  return { exitCode, signal, code128: exitCodeOf(exitCode, signal) };
}

export function spawnCodex(options: SpawnCodexOptions): SpawnedCodex {
  const spawn = options.spawn ?? nodeSpawn;
  // Codex is never detached: it stays in our foreground process group so the terminal's keys and
  // job control reach it (docs/style.md rule 21).
  const wrapper = options.pdeathWrapper ?? null;
  const command = wrapper ?? options.binary.path;
  const args =
    wrapper === null
      ? [...options.args]
      : ["--pdeathsig", "SIGTERM", "--", options.binary.path, ...options.args];
  const child = spawn(command, args, {
    env: options.env,
    stdio: options.stdio ?? "inherit",
    ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
    ...(options.ownGroup === true ? { detached: true } : {}),
  });
  const exited = new Promise<ChildOutcome>((resolve, reject) => {
    let started = false;
    child.once("spawn", () => {
      started = true;
    });
    child.once("error", (error) => {
      if (started) return; // a kill() failure after start; the exit event still comes
      const hint = hasErrorCode(error, "ENOENT")
        ? `it does not exist; ${CODEX_INSTALL_HINT}`
        : hasErrorCode(error, "EACCES")
          ? "it is not executable; fix its mode or set CODEX_POOL_CODEX_BIN"
          : errorMessage(error);
      reject(
        new CodexMissingError(`cannot start codex at ${options.binary.path}: ${hint}`, {
          cause: error,
          hint: CODEX_INSTALL_HINT,
        }),
      );
    });
    child.once("exit", (code, signal) => resolve(outcomeOf(code, signal)));
  });
  return { child, exited };
}

/** Settles once the process is running; rejects as `exited` does when it could not start. */
export function started(spawned: SpawnedCodex): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    spawned.child.once("spawn", resolve);
    spawned.exited.catch(reject);
  });
}

/** The parts of a process that signal relaying needs (so tests can pass a fake). */
export interface SignalTarget {
  on(event: NodeJS.Signals, listener: () => void): unknown;
  off(event: NodeJS.Signals, listener: () => void): unknown;
}

/**
 * While the child runs: SIGINT is ignored by us (the terminal delivers it to the whole foreground
 * group, so codex gets it anyway; the TUI treats Ctrl+C as a key), SIGTERM and SIGHUP are passed on
 * to the child. Returns the function that removes the handlers.
 */
export function relaySignals(child: ChildProcess, target: SignalTarget): () => void {
  const ignore = (): void => {};
  const forward = (signal: NodeJS.Signals) => (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  };
  const onTerm = forward("SIGTERM");
  const onHup = forward("SIGHUP");
  target.on("SIGINT", ignore);
  target.on("SIGTERM", onTerm);
  target.on("SIGHUP", onHup);
  return () => {
    target.off("SIGINT", ignore);
    target.off("SIGTERM", onTerm);
    target.off("SIGHUP", onHup);
  };
}
