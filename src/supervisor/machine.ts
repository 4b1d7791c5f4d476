/**
 * The state machine of one supervised session (docs/decisions.md decisions 5–8 and 11), as data
 * and one pure function. `transition(config, state, event)` returns the next state and the
 * effects to perform; the runner (run-session.ts) performs them (select, start, move, stop, wait,
 * …) through ports and feeds what it observes back as events. The machine decides *when* a
 * session moves and *to whom*; *how* it moves is the switching port's (docs/supervisor.md).
 * Nothing here touches a process, a file, the network or the clock: every time arrives inside an
 * event, so every scenario is testable without processes.
 *
 * Phases:
 *   choosing   no child; an account selection is outstanding
 *   waiting    no child; every account is out, counting down to the earliest reset
 *   launching  a start or a move is outstanding (tokens, home, spawn; or the session moving)
 *   binding    child running; its session id and rollout are not known yet
 *   running    child running and bound
 *   draining   child running, a turn in flight, a switch wanted once it ends (never cut a turn)
 *   switching  child running and idle at a turn boundary; choosing the next account
 *   handoff    exec: the turn ended on the usage limit and codex is exiting by itself; the next
 *              account is chosen meanwhile and launched once the child is gone
 *   stopping   stopping the child (SIGTERM → SIGKILL); what follows is in `then`
 *   done       terminal, with the exit code
 */

import {
  SIGNAL_EXIT_CODES,
  type Event,
  type MachineConfig,
  type Phase,
  type State,
  type Step,
  type Then,
} from "./machine-types.js";
import { afterStop, childEnded, onExhausted, stopFor } from "./machine-end.js";
import { onContinuationMissed } from "./machine-continuation.js";
import { step, withPhase } from "./machine-step.js";
import {
  accountReplaced,
  beginSwitch,
  launchAccount,
  moveTo,
  onLeaseLost,
  onLimitInExec,
  onLimitInTui,
  settle,
} from "./machine-switch.js";

export * from "./machine-types.js";

function onChildPhaseEvent(config: MachineConfig, state: State, event: Event): Step {
  const { ctx } = state;
  if (event.type === "signal") {
    return stopFor(state, { kind: "exit", code: SIGNAL_EXIT_CODES[event.signal] }, null);
  }
  if (event.type === "childExited") return childEnded(config, state, event.code);
  if (event.type === "pressure") {
    if (ctx.account?.id !== event.account) return step(state);
    return settle(config, withPhase(state, state.phase, { pressure: event.level }));
  }
  if (event.type === "leaseLost") {
    if (ctx.account?.id !== event.account) return step(state);
    return onLeaseLost(config, state, event.by);
  }
  if (event.type === "prewarmed") {
    if (ctx.account?.id !== event.forAccount) return step(state);
    return step(withPhase(state, state.phase, { prewarm: "done", next: event.next }));
  }
  if (event.type === "continuationMissed") return onContinuationMissed(config, state);
  if (event.type === "accountReplaced") return accountReplaced(state, event.account);
  return step(state);
}

/** A turn started: it is the continuation's, if one was waiting to be taken. */
function turnStarted(state: State, extra: Partial<State["ctx"]> = {}): State {
  return withPhase(state, state.phase, { turnActive: true, continuation: null, ...extra });
}

function endBySignal(state: State, signal: keyof typeof SIGNAL_EXIT_CODES): Step {
  return step(
    withPhase(state, { kind: "done", code: SIGNAL_EXIT_CODES[signal], reason: "signal" }),
    { type: "cancel" },
  );
}

type PhaseOf<K extends Phase["kind"]> = Extract<Phase, { kind: K }>;
type Handler<K extends Phase["kind"]> = (
  config: MachineConfig,
  state: State,
  phase: PhaseOf<K>,
  event: Event,
) => Step;

const onChoosing: Handler<"choosing"> = (config, state, phase, event) => {
  if (event.type === "selected")
    return launchAccount(config, state, event.account, phase.switchCause);
  if (event.type === "exhausted") {
    return onExhausted(config, state, event.exhaustion, event.now, phase.switchCause);
  }
  if (event.type === "signal") return endBySignal(state, event.signal);
  return step(state);
};

const onWaiting: Handler<"waiting"> = (_config, state, phase, event) => {
  if (event.type === "waitOver") {
    return step(withPhase(state, { kind: "choosing", switchCause: phase.switchCause }), {
      type: "select",
      exclude: [],
      preferred: null,
      purpose: "after-wait",
    });
  }
  if (event.type === "signal") return endBySignal(state, event.signal);
  return step(state);
};

const onLaunching: Handler<"launching"> = (_config, state, phase, event) => {
  if (event.type === "launched") {
    const bound = state.ctx.sessionId !== null;
    const next = withPhase(state, bound ? { kind: "running" } : { kind: "binding" });
    if (phase.pendingExit !== null) {
      return stopFor(next, { kind: "exit", code: phase.pendingExit }, null);
    }
    return step(next);
  }
  if (event.type === "launchFailed") {
    const signalled = phase.pendingExit !== null;
    const done = withPhase(state, {
      kind: "done",
      code: phase.pendingExit ?? event.code ?? 1,
      reason: signalled ? "signal" : "launch-failed",
    });
    return event.cancelled === true
      ? step(done)
      : step(done, { type: "notice", message: event.message });
  }
  if (event.type === "signal") {
    // Given up if codex is not running yet; otherwise stopped as soon as it is up.
    return step(
      withPhase(state, { kind: "launching", pendingExit: SIGNAL_EXIT_CODES[event.signal] }),
      { type: "abortLaunch" },
    );
  }
  return step(state);
};

const onBinding: Handler<"binding"> = (config, state, _phase, event) => {
  if (event.type === "bound") {
    return settle(config, withPhase(state, { kind: "running" }, { sessionId: event.sessionId }));
  }
  return onChildPhaseEvent(config, state, event);
};

const onRunning: Handler<"running"> = (config, state, _phase, event) => {
  if (event.type === "turnStarted") return step(turnStarted(state, { lastTurnLimited: false }));
  if (event.type === "turnEnded") {
    const ended = withPhase(state, state.phase, {
      turnActive: false,
      lastTurnLimited: event.limitHit,
    });
    if (event.limitHit) {
      return config.mode === "tui" ? onLimitInTui(config, ended) : onLimitInExec(config, ended);
    }
    return settle(config, ended);
  }
  return onChildPhaseEvent(config, state, event);
};

const onDraining: Handler<"draining"> = (config, state, phase, event) => {
  if (event.type === "turnStarted") return step(turnStarted(state));
  if (event.type === "turnEnded") {
    const ended = withPhase(state, phase, { turnActive: false, lastTurnLimited: event.limitHit });
    return beginSwitch(ended, event.limitHit ? "limit" : phase.cause);
  }
  return onChildPhaseEvent(config, state, event);
};

const onSwitching: Handler<"switching"> = (config, state, phase, event) => {
  const { ctx } = state;
  if (event.type === "turnStarted") return step(turnStarted(state));
  if (event.type === "turnEnded") {
    const cause = event.limitHit ? "limit" : phase.cause;
    return step(
      withPhase(
        state,
        { kind: "switching", cause },
        { turnActive: false, lastTurnLimited: event.limitHit },
      ),
    );
  }
  if (event.type === "selected") {
    // The user started a turn while we chose: let it finish, then switch (to this account).
    if (ctx.turnActive) {
      return step(
        withPhase(state, { kind: "draining", cause: phase.cause }, { next: event.account }),
      );
    }
    return moveTo(config, state, event.account, phase.cause);
  }
  if (event.type === "exhausted") {
    if (phase.cause !== "limit") {
      // The account still has a little left (or is shared with another machine): stay on it
      // until the limit really hits.
      const label = ctx.account?.label ?? "the account";
      const why =
        phase.cause === "floor"
          ? "is near its floor"
          : `is also used by ${ctx.takenBy ?? "another session"}`;
      return step(withPhase(state, { kind: "running" }, { hold: true }), {
        type: "notice",
        message: `${label} ${why} but no other account is usable; staying on it`,
      });
    }
    const then: Then = config.canWait
      ? { kind: "wait", exhaustion: event.exhaustion, now: event.now }
      : { kind: "exit", code: 75, exhaustion: event.exhaustion };
    return stopFor(state, then, "limit");
  }
  return onChildPhaseEvent(config, state, event);
};

const onHandoff: Handler<"handoff"> = (config, state, phase, event) => {
  // The choice waits for the child's exit: the resume must never run beside it.
  if (event.type === "selected") {
    return step(
      withPhase(state, { kind: "handoff", choice: { kind: "selected", account: event.account } }),
    );
  }
  if (event.type === "exhausted") {
    const choice = { kind: "exhausted", exhaustion: event.exhaustion, now: event.now } as const;
    return step(withPhase(state, { kind: "handoff", choice }));
  }
  if (event.type === "childExited") return childEnded(config, state, event.code, phase.choice);
  // Codex went on after all: whether the run is resumed is judged on its last turn at the exit.
  if (event.type === "turnStarted") return step(turnStarted(state, { lastTurnLimited: false }));
  if (event.type === "turnEnded") {
    return step(withPhase(state, phase, { turnActive: false, lastTurnLimited: event.limitHit }));
  }
  return onChildPhaseEvent(config, state, event);
};

const onStopping: Handler<"stopping"> = (config, state, phase, event) => {
  if (event.type === "childExited") {
    const stopped = withPhase(state, phase, { turnActive: false });
    return afterStop(config, stopped, phase.then, phase.cause);
  }
  if (event.type === "signal") {
    // Already stopping: end with the signal's code once the child is gone.
    const then: Then = { kind: "exit", code: SIGNAL_EXIT_CODES[event.signal] };
    return step(withPhase(state, { kind: "stopping", cause: phase.cause, then }));
  }
  return step(state);
};

export function transition(config: MachineConfig, state: State, event: Event): Step {
  const { phase } = state;
  switch (phase.kind) {
    case "done":
      return step(state);
    case "choosing":
      return onChoosing(config, state, phase, event);
    case "waiting":
      return onWaiting(config, state, phase, event);
    case "launching":
      return onLaunching(config, state, phase, event);
    case "binding":
      return onBinding(config, state, phase, event);
    case "running":
      return onRunning(config, state, phase, event);
    case "draining":
      return onDraining(config, state, phase, event);
    case "switching":
      return onSwitching(config, state, phase, event);
    case "handoff":
      return onHandoff(config, state, phase, event);
    case "stopping":
      return onStopping(config, state, phase, event);
  }
}
