/**
 * The data of the supervisor's state machine (machine.ts): phases, context, events, effects. The
 * effects say *what* happens to codex (start it, move the session, stop it); *how* is the switching
 * port's (docs/supervisor.md), so the same machine drives a relaunch or a live switch.
 */
export type Mode = "tui" | "exec";

/**
 * Why a session moves: its turn failed on the usage limit, the account reached its floor, our lease
 * on it lapsed and another session (another machine) now runs it, or (live mode) its sign-in was
 * refused and could not be renewed, so the switching port answered codex's refresh request with the
 * next account (docs/supervisor.md).
 */
export type SwitchCause = "limit" | "floor" | "lease" | "signed-out";

/** How close the running account is to its floor (from rollout rate_limits or /wham/usage). */
export type Pressure = "ok" | "near" | "floor";

export interface AccountRef {
  /** Our pool id (acc_…). */
  readonly id: string;
  /** What the user sees, e.g. the email. */
  readonly label: string;
}

export interface ResetInfo {
  readonly account: AccountRef;
  /** Epoch ms of the reset that makes the account usable again, or null when unknown. */
  readonly resetsAt: number | null;
  /** What holds it ("5h", "weekly", "30d", "spend cap"), when known. */
  readonly what?: string | null;
}

export interface MachineConfig {
  readonly mode: Mode;
  readonly maxSwitches: number;
  readonly continueAfterLimit: boolean;
  /** waitForReset, a terminal, and no --no-wait. */
  readonly canWait: boolean;
  readonly maxWaitMs: number;
}

export type ExitSignal = "SIGINT" | "SIGTERM" | "SIGHUP";

export const SIGNAL_EXIT_CODES: Record<ExitSignal, number> = {
  SIGINT: 130,
  SIGTERM: 143,
  SIGHUP: 129,
};

export interface Exhaustion {
  readonly resets: readonly ResetInfo[];
  readonly earliest: number | null;
}

/** What follows a stop: a wait for a reset, or the end. */
export type Then =
  | { readonly kind: "wait"; readonly exhaustion: Exhaustion; readonly now: number }
  | { readonly kind: "exit"; readonly code: number; readonly exhaustion?: Exhaustion };

/** exec: what the choice made while the limited child exits came to, once known. */
export type HandoffChoice =
  | { readonly kind: "selected"; readonly account: AccountRef }
  | { readonly kind: "exhausted"; readonly exhaustion: Exhaustion; readonly now: number };

export type Phase =
  | { readonly kind: "choosing"; readonly switchCause: SwitchCause | null }
  | { readonly kind: "waiting"; readonly until: number; readonly switchCause: SwitchCause | null }
  /** A start or a move is outstanding (codex is being started, or the session moved). */
  | { readonly kind: "launching"; readonly pendingExit: number | null }
  | { readonly kind: "binding" }
  | { readonly kind: "running" }
  | { readonly kind: "draining"; readonly cause: SwitchCause }
  | { readonly kind: "switching"; readonly cause: SwitchCause }
  | { readonly kind: "handoff"; readonly choice: HandoffChoice | null }
  | { readonly kind: "stopping"; readonly cause: SwitchCause | null; readonly then: Then }
  | {
      readonly kind: "done";
      readonly code: number;
      readonly reason: DoneReason;
      readonly exhaustion?: Exhaustion;
    };

export type DoneReason =
  "child-exited" | "signal" | "exhausted" | "launch-failed" | "max-switches" | "wait-too-long";

export interface Ctx {
  readonly sessionId: string | null;
  /** The account the child runs on (or ran on last). */
  readonly account: AccountRef | null;
  /** The account served before the last switch, for the attribution line. */
  readonly previous: AccountRef | null;
  /** Every account the session ran on, in order (a return to an earlier one is listed again). */
  readonly served: readonly AccountRef[];
  /**
   * A continuation prompt was sent with the last start or move and its turn has not been seen
   * starting yet; `attempt` counts the launches that carried it (docs/supervisor.md, "verified
   * continuation").
   */
  readonly continuation: { readonly account: string; readonly attempt: number } | null;
  readonly lastCause: SwitchCause | null;
  readonly switches: number;
  readonly turnActive: boolean;
  /** The last turn ended on the usage limit (exec: decides the resume when the child exits). */
  readonly lastTurnLimited: boolean;
  readonly pressure: Pressure;
  readonly prewarm: "idle" | "pending" | "done";
  /** The prewarmed successor, if any. */
  readonly next: AccountRef | null;
  /** No more preemptive switches for this launch (none usable, or the switch budget is spent). */
  readonly hold: boolean;
  /**
   * Our lease on the account lapsed and these sessions now run it (`leaseLost`): the session
   * moves at its next turn boundary, like at the floor (docs/team-pool.md "Session leases").
   */
  readonly takenBy: string | null;
  /** When the current pool-exhausted wait began (epoch ms), for maxWaitMs. */
  readonly waitStartedAt: number | null;
}

export interface State {
  readonly phase: Phase;
  readonly ctx: Ctx;
}

export type Event =
  | { readonly type: "selected"; readonly account: AccountRef }
  | { readonly type: "exhausted"; readonly exhaustion: Exhaustion; readonly now: number }
  | { readonly type: "launched" }
  /** `cancelled`: given up because a signal arrived first (nothing to tell the user). */
  | {
      readonly type: "launchFailed";
      readonly message: string;
      readonly cancelled?: boolean;
      /** The failure's exit code (its class in src/platform/exit-codes.ts); default 1. */
      readonly code?: number;
    }
  | { readonly type: "bound"; readonly sessionId: string }
  | { readonly type: "turnStarted" }
  | { readonly type: "turnEnded"; readonly limitHit: boolean }
  | { readonly type: "pressure"; readonly account: string; readonly level: Pressure }
  /**
   * Our lease on `account` lapsed while we were silent and another session now runs it; `by` names
   * where ("host-b (pid 4242)").
   */
  | { readonly type: "leaseLost"; readonly account: string; readonly by: string }
  | { readonly type: "prewarmed"; readonly forAccount: string; readonly next: AccountRef | null }
  | { readonly type: "childExited"; readonly code: number }
  /** The continuation prompt's turn did not start within its bound. */
  | { readonly type: "continuationMissed" }
  /**
   * The switching port moved the running session to `account` by itself (live mode: codex was
   * refused the account's token and it could not be renewed); the machine follows.
   */
  | { readonly type: "accountReplaced"; readonly account: AccountRef }
  | { readonly type: "signal"; readonly signal: ExitSignal }
  | { readonly type: "waitOver" };

export type Effect =
  | {
      readonly type: "select";
      readonly exclude: readonly string[];
      readonly preferred: AccountRef | null;
      readonly purpose: "start" | "switch" | "after-wait";
    }
  | { readonly type: "prewarm"; readonly exclude: readonly string[] }
  /** Start codex on `account` (none runs): the user's own argv, or a resume of the session. */
  | {
      readonly type: "start";
      readonly account: AccountRef;
      /** The session when known (the user's `resume <id>`, or an earlier launch's). */
      readonly sessionId: string | null;
      readonly resume: ResumeRequest | null;
    }
  /**
   * Move the running session to `to` at a turn boundary (no turn is in flight). `resend`: the same
   * account again, because the continuation was not taken.
   */
  | {
      readonly type: "move";
      readonly from: AccountRef;
      readonly to: AccountRef;
      readonly sessionId: string;
      readonly continuation: boolean;
      readonly resend: boolean;
    }
  /** Stop the codex that runs now; `childExited` follows. */
  | { readonly type: "stop" }
  /** A signal arrived during a start or move: give it up if codex is not running yet. */
  | { readonly type: "abortLaunch" }
  | {
      readonly type: "announceSwitch";
      readonly sessionId: string;
      readonly from: AccountRef;
      readonly to: AccountRef;
      readonly cause: SwitchCause;
    }
  | {
      readonly type: "attribute";
      readonly account: AccountRef;
      readonly previous: AccountRef | null;
      readonly cause: SwitchCause | null;
      readonly code: number;
    }
  | { readonly type: "wait"; readonly until: number; readonly exhaustion: Exhaustion }
  | { readonly type: "cancel" }
  | { readonly type: "notice"; readonly message: string };

export interface ResumeRequest {
  readonly sessionId: string;
  /** Submit the continuation prompt (the last turn failed on the usage limit). */
  readonly continuation: boolean;
}

export interface Step {
  readonly state: State;
  readonly effects: readonly Effect[];
}

/** What each launch starts afresh: the turn, the pressure and prewarm of the previous child. */
export const PER_LAUNCH = {
  turnActive: false,
  lastTurnLimited: false,
  pressure: "ok",
  prewarm: "idle",
  next: null,
  hold: false,
  takenBy: null,
  waitStartedAt: null,
} as const satisfies Partial<Ctx>;

export function initialState(sessionId: string | null = null): State {
  return {
    phase: { kind: "choosing", switchCause: null },
    ctx: {
      sessionId,
      account: null,
      previous: null,
      served: [],
      continuation: null,
      lastCause: null,
      switches: 0,
      ...PER_LAUNCH,
    },
  };
}

/** The effects that start a session: choose its first account. */
export function startEffects(): Effect[] {
  return [{ type: "select", exclude: [], preferred: null, purpose: "start" }];
}

export function isChildRunning(phase: Phase): boolean {
  switch (phase.kind) {
    case "binding":
    case "running":
    case "draining":
    case "switching":
    case "handoff":
    case "stopping":
      return true;
    case "choosing":
    case "waiting":
    case "launching":
    case "done":
      return false;
  }
}
