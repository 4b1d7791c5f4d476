/**
 * What the session runner (run-session.ts) needs from the world, as ports: selection, launch,
 * watching, token adoption, the pool's live-session entry and output. index.ts implements them
 * for real; tests pass fakes.
 */
import type { ChildProcess } from "node:child_process";
import type { Clock } from "../platform/clock.js";
import type { LivePhase } from "./live-sessions.js";
import type {
  AccountRef,
  Event,
  Exhaustion,
  ExitSignal,
  MachineConfig,
  Phase,
  State,
  SwitchCause,
} from "./machine.js";
import type { ChildOutcome } from "./stop-child.js";

export type SelectOutcome =
  | { readonly kind: "selected"; readonly account: AccountRef }
  | { readonly kind: "exhausted"; readonly exhaustion: Exhaustion };

export interface SelectRequest {
  readonly exclude: readonly string[];
  readonly preferred: AccountRef | null;
  readonly purpose: "start" | "switch" | "after-wait";
}

export interface LaunchedChild {
  readonly child: ChildProcess;
  /** Settles when the child is gone. */
  readonly exited: Promise<ChildOutcome>;
}

/** What a watcher reports: binding, turn boundaries and quota pressure of the running account. */
export type WatchEvent = Extract<
  Event,
  { type: "bound" | "turnStarted" | "turnEnded" | "pressure" }
>;

export interface Watcher {
  /** Reads what the rollout still holds (called once the child exited), then stops. */
  drain(): Promise<void>;
  stop(): Promise<void>;
}

export interface WatchRequest {
  readonly account: AccountRef;
  readonly sessionId: string | null;
  readonly launchedAt: number;
  /** The child's pid (codex itself, or a wrapper that execs it in place). */
  readonly pid: number | null;
  /** The rollout so far belongs to earlier launches: start reading at its end. */
  readonly resumed: boolean;
}

export interface SessionPorts {
  readonly clock: Clock;
  select(request: SelectRequest, signal: AbortSignal): Promise<SelectOutcome>;
  /** Chooses and checks the next account ahead of a switch; null when none is usable. */
  prewarm(exclude: readonly string[], signal: AbortSignal): Promise<AccountRef | null>;
  /** Spawns codex; `beforeSpawn` must be awaited right before the spawn itself. */
  launch(
    account: AccountRef,
    resume: { sessionId: string; continuation: boolean } | null,
    beforeSpawn: () => Promise<void>,
  ): Promise<LaunchedChild>;
  watch(request: WatchRequest, emit: (event: WatchEvent) => void): Watcher;
  adoptTokens(account: AccountRef): Promise<void>;
  /** Our entry among the pool's live sessions (null account: remove nothing yet). */
  publish(entry: { account: string; sessionId: string | null; phase: LivePhase }): Promise<void>;
  /** The child to kill if we die (see signals.ts). */
  setChild(child: ChildProcess | null): void;
  notice(message: string): void;
  /** Writes the switch line; settles once it is out (the next codex must not cover it). */
  announceSwitch(
    sessionId: string,
    from: AccountRef,
    to: AccountRef,
    cause: SwitchCause,
  ): Promise<void>;
  attribute(
    account: AccountRef,
    previous: AccountRef | null,
    cause: SwitchCause | null,
    code: number,
  ): void;
  /** Countdown while waiting for a reset (once a second); `null` clears it. */
  countdown(remainingMs: number | null, exhaustion: Exhaustion): void;
}

export interface RunSessionOptions {
  readonly config: MachineConfig;
  readonly killGraceMs: number;
  /** Set for `codex resume <id>` / `exec resume <id>`: the session is known from the start. */
  readonly sessionId: string | null;
}

export interface SessionResult {
  readonly code: number;
  readonly state: State;
  readonly exhaustion: Exhaustion | null;
}

export interface SessionControl {
  /** Delivers a signal (from signals.ts) to the session. */
  signal(signal: ExitSignal): void;
  /** True while codex owns the terminal (SIGINT is then ignored). */
  childRunning(): boolean;
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
    case "switching":
    case "stopping":
    case "launching":
      return "switching";
    case "choosing":
    case "handoff":
      // The selection's claim records us on the chosen account; a write now would only delay it.
      return null;
    case "waiting":
      return "waiting";
    case "done":
      return null;
  }
}
