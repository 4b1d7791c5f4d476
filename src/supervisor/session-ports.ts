/**
 * What the session runner (run-session.ts) needs from the world, as ports.
 *
 * - `SwitchingPort`: *how* codex runs and how the session moves between accounts. Today's
 *   implementation relaunches codex (relaunch.ts: stop at a turn boundary, take back the child's
 *   tokens, `codex resume <id>`); a live one (codex's app-server) is the second. The contract is
 *   written out in docs/supervisor.md; the machine (machine.ts) never learns which one runs.
 * - `SessionPorts`: everything else the runner uses whatever the mechanism: the clock, account
 *   selection, the pool's live-session entry (our lease) and what other machines change in the
 *   pool, the lines for the user.
 *
 * index.ts implements them for real; the runner's tests pass fakes (test/supervisor/runner.test.ts).
 */
import type { Clock } from "../platform/clock.js";
import type { LivePhase } from "./live-sessions.js";
import type {
  AccountRef,
  Exhaustion,
  ExitSignal,
  MachineConfig,
  Phase,
  Pressure,
  ResumeRequest,
  State,
  SwitchCause,
} from "./machine.js";

export type SelectOutcome =
  | { readonly kind: "selected"; readonly account: AccountRef }
  | { readonly kind: "exhausted"; readonly exhaustion: Exhaustion };

export interface SelectRequest {
  readonly exclude: readonly string[];
  readonly preferred: AccountRef | null;
  readonly purpose: "start" | "switch" | "after-wait";
}

/** Start codex on an account while none runs. */
export interface StartRequest {
  readonly account: AccountRef;
  /** The session, when known: the user's `resume <id>`, or the session of an earlier launch. */
  readonly sessionId: string | null;
  /** null: the user's own argv. Otherwise continue `sessionId` (with the continuation prompt). */
  readonly resume: ResumeRequest | null;
}

/** Move the running session (idle at a turn boundary) to another account, or send the
 * continuation again on the same (`resend`). */
export interface MoveRequest {
  readonly from: AccountRef;
  readonly to: AccountRef;
  readonly sessionId: string;
  /** Submit the continuation prompt once the session runs on `to`, and verify it was taken. */
  readonly continuation: boolean;
  /** Same account again: the continuation sent with the last launch was not taken. */
  readonly resend: boolean;
}

/** What a switching port reports about the codex it runs (in the order it happened). */
export type SwitchEvent =
  /** The session this codex works on is known (a new session's id, once its rollout exists). */
  | { readonly type: "bound"; readonly sessionId: string }
  | { readonly type: "turnStarted" }
  /** A turn ended; `limitHit`: it failed on the account's usage limit. */
  | { readonly type: "turnEnded"; readonly limitHit: boolean }
  /** How close `account` is to its floor, from a quota observation (already stored in the pool). */
  | { readonly type: "pressure"; readonly account: string; readonly level: Pressure }
  /** The continuation's turn did not start within continuationTimeoutSeconds. */
  | { readonly type: "continuationMissed" }
  /**
   * The port moved the session to `account` by itself (live mode: codex was refused its token
   * and the account could not be refreshed, so codex's refresh request got the next account).
   */
  | { readonly type: "accountReplaced"; readonly account: AccountRef }
  /** Codex ended (by itself, or by `stop`), and what it left behind was taken care of. */
  | { readonly type: "exited"; readonly code: number }
  /** Something the user should know, not fatal to the session (a line after codex exits). */
  | { readonly type: "warning"; readonly message: string };

/**
 * How a supervised session runs and moves. Every method is called by the runner only; events come
 * back through the `emit` given to `SessionPorts.switcher`. See docs/supervisor.md for the full
 * contract (ordering, error cases).
 */
export interface SwitchingPort {
  /**
   * Starts codex on `request.account` (no codex runs). Settles once it runs; rejects (with a
   * message for the user) when it could not, and then nothing runs. When `signal` aborts before
   * codex is running it rejects with CancelledError and starts nothing.
   */
  start(request: StartRequest, signal: AbortSignal): Promise<void>;
  /**
   * Moves the session to `request.to` (the caller guarantees no turn is in flight). Settles once
   * the session runs on `to`; rejects when it could not, and then no codex runs (the old one is
   * gone too). The old codex's end is not reported as `exited`. `signal` as for `start`.
   */
  move(request: MoveRequest, signal: AbortSignal): Promise<void>;
  /** Ends the codex that runs now (`exited` follows once it is gone); no-op when none runs. */
  stop(): Promise<void>;
  /** Whether a codex of this session runs now (it then owns the terminal and its keys). */
  running(): boolean;
  /**
   * Supervision gave up: stop watching and reporting, leave codex running on its own, and settle
   * with its exit code once it ends (null when none runs).
   */
  release(): Promise<number | null>;
  /** The session is over: stop watching and finish what was left (no codex runs any more). */
  close(): Promise<void>;
}

/** The lines for the user. Implementations hold them back while codex owns the screen. */
export interface SessionOutput {
  notice(message: string): void;
  /**
   * The switch line. Its place among the lines is taken now, its text (it reads the pool) may
   * come later; it is out before the next codex takes the screen.
   */
  announceSwitch(sessionId: string, from: AccountRef, to: AccountRef, cause: SwitchCause): void;
  attribute(
    account: AccountRef,
    previous: AccountRef | null,
    cause: SwitchCause | null,
    code: number,
  ): void;
  /** Countdown while waiting for a reset (once a second); `null` clears it. */
  countdown(remainingMs: number | null, exhaustion: Exhaustion): void;
}

export interface SessionPorts {
  readonly clock: Clock;
  select(request: SelectRequest, signal: AbortSignal): Promise<SelectOutcome>;
  /** Chooses and checks the next account ahead of a switch; null when none is usable. */
  prewarm(exclude: readonly string[], signal: AbortSignal): Promise<AccountRef | null>;
  /** Our entry among the pool's live sessions: our lease on the account, renewed by a heartbeat. */
  publish(entry: { account: string; sessionId: string | null; phase: LivePhase }): Promise<void>;
  /**
   * Registers who hears that our lease lapsed while we were silent and another session now runs
   * that account (`by` names where); the runner hands it to the machine as `leaseLost`. Called
   * once, before anything is published (src/supervisor/live-sessions.ts).
   */
  onLeaseLost(listener: (lost: { account: string; by: string }) => void): void;
  /**
   * Settles when the pool changes so that an account looks usable again (another machine's quota
   * observation, a login): the pool-exhausted wait then ends early and the selection looks again.
   * Rejects once `signal` aborts (src/supervisor/usable-again.ts).
   */
  usableAgain(signal: AbortSignal): Promise<void>;
  readonly output: SessionOutput;
  /** Makes the switching port, whose events go to `emit`. Called once per session. */
  switcher(emit: (event: SwitchEvent) => void): SwitchingPort;
}

export interface RunSessionOptions {
  readonly config: MachineConfig;
  /** Set for `codex resume <id>` / `exec resume <id>`: the session is known from the start. */
  readonly sessionId: string | null;
}

export interface SessionResult {
  readonly code: number;
  /** The machine's last state: the session id, the accounts served. */
  readonly state: State;
  readonly exhaustion: Exhaustion | null;
}

export interface SessionControl {
  /** Delivers a signal (from signals.ts) to the session. */
  signal(signal: ExitSignal): void;
  /** True while codex owns the terminal (SIGINT is then ignored). */
  childRunning(): boolean;
  /** The machine's current state (the session id, the accounts served so far). */
  state(): State;
  readonly done: Promise<SessionResult>;
}

/** How a phase shows in the pool's live sessions; null: not recorded. */
export function livePhaseOf(phase: Phase): LivePhase | null {
  switch (phase.kind) {
    case "binding":
    case "running":
      return "running";
    case "draining":
      return "draining";
    case "stopping":
    case "launching":
      return "switching";
    case "choosing":
    case "handoff":
    case "switching":
      // A selection runs: its claim records us on the chosen account, and a write now would only
      // queue ahead of it (the switch waits on that claim). Until then the entry we have (running
      // or draining on the account we leave) holds the account just as well.
      return null;
    case "waiting":
      return "waiting";
    case "done":
      return null;
  }
}
