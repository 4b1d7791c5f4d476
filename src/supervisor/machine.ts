/**
 * The state machine of one supervised session (PRODUCT.md decisions 5–8), as data and one pure
 * function. `transition(config, state, event)` returns the next state and the effects to perform;
 * the runner (run-session.ts) performs them (select, launch, stop, wait, …) and feeds what it
 * observes back as events. Nothing here touches a process, a file, the network or the clock:
 * every time arrives inside an event, so every scenario is testable without processes.
 *
 * Phases:
 *   choosing   no child; an account selection is outstanding
 *   waiting    no child; every account is out, counting down to the earliest reset
 *   launching  a launch is outstanding (token refresh, home, spawn)
 *   binding    child running; its session id and rollout are not known yet
 *   running    child running and bound
 *   draining   child running, a turn in flight, a switch wanted once it ends (never cut a turn)
 *   switching  child running and idle at a turn boundary; choosing the next account
 *   stopping   stopping the child (SIGTERM → SIGKILL); what follows is in `then`
 *   done       terminal, with the exit code
 */

import {
  SIGNAL_EXIT_CODES,
  type AccountRef,
  type Ctx,
  type DoneReason,
  type Effect,
  type Event,
  type Exhaustion,
  type MachineConfig,
  type Phase,
  type State,
  type Step,
  type SwitchCause,
  type Then,
} from "./machine-types.js";

export * from "./machine-types.js";

const step = (state: State, ...effects: Effect[]): Step => ({ state, effects });

function withPhase(state: State, phase: Phase, ctx: Partial<Ctx> = {}): State {
  return { phase, ctx: { ...state.ctx, ...ctx } };
}

function excludeCurrent(ctx: Ctx): string[] {
  return ctx.account ? [ctx.account.id] : [];
}

/** Where an exhausted selection leads: a wait (bounded), or the end with code 75. */
function onExhausted(
  config: MachineConfig,
  state: State,
  exhaustion: Exhaustion,
  now: number,
  switchCause: SwitchCause | null,
): Step {
  const waitStartedAt = state.ctx.waitStartedAt ?? now;
  const deadline = waitStartedAt + config.maxWaitMs;
  const done = (reason: DoneReason): Step =>
    step(withPhase(state, { kind: "done", code: 75, reason, exhaustion }, { waitStartedAt }));
  if (!config.canWait || exhaustion.earliest === null) return done("exhausted");
  if (exhaustion.earliest > deadline) return done("wait-too-long");
  const until = Math.max(now, exhaustion.earliest);
  return step(withPhase(state, { kind: "waiting", until, switchCause }, { waitStartedAt }), {
    type: "wait",
    until,
    exhaustion,
  });
}

/** What follows a stopped child. */
function afterStop(
  config: MachineConfig,
  state: State,
  then: Then,
  cause: SwitchCause | null,
): Step {
  switch (then.kind) {
    case "launch":
      return launchAccount(config, state, then.account, cause);
    case "wait":
      return onExhausted(config, state, then.exhaustion, then.now, cause);
    case "exit":
      return step(
        withPhase(state, {
          kind: "done",
          code: then.code,
          reason: then.exhaustion ? "exhausted" : "signal",
          ...(then.exhaustion ? { exhaustion: then.exhaustion } : {}),
        }),
      );
  }
}

/** Launch on `account`: a first launch, or a resume of the bound session (a switch). */
function launchAccount(
  config: MachineConfig,
  state: State,
  account: AccountRef,
  cause: SwitchCause | null,
): Step {
  const { ctx } = state;
  const fresh: Partial<Ctx> = {
    account,
    turnActive: false,
    lastTurnLimited: false,
    pressure: "ok",
    prewarm: "idle",
    next: null,
    hold: false,
    waitStartedAt: null,
  };
  const effects: Effect[] = [];
  if (ctx.sessionId !== null && ctx.account !== null && cause !== null) {
    const switchingAccount = ctx.account.id !== account.id;
    if (switchingAccount) {
      effects.push({
        type: "announceSwitch",
        sessionId: ctx.sessionId,
        from: ctx.account,
        to: account,
        cause,
      });
    }
    const continuation = cause === "limit" && config.continueAfterLimit;
    effects.push({ type: "launch", account, resume: { sessionId: ctx.sessionId, continuation } });
    return step(
      withPhase(
        state,
        { kind: "launching", pendingExit: null },
        {
          ...fresh,
          switches: ctx.switches + 1,
          previous: switchingAccount ? ctx.account : ctx.previous,
          lastCause: cause,
        },
      ),
      ...effects,
    );
  }
  // The first launch (or a relaunch after a wait with no session to resume yet). The very first
  // launch runs the user's own argv even when it names a session (`resume <id> "prompt"`): a
  // rebuilt resume argv would drop their prompt.
  const firstLaunch = ctx.account === null;
  effects.push({
    type: "launch",
    account,
    resume:
      ctx.sessionId !== null && !firstLaunch
        ? { sessionId: ctx.sessionId, continuation: false }
        : null,
  });
  return step(withPhase(state, { kind: "launching", pendingExit: null }, fresh), ...effects);
}

function budgetLeft(config: MachineConfig, ctx: Ctx): boolean {
  return ctx.switches < config.maxSwitches;
}

/**
 * In a running TUI, decide whether a switch is due: at the floor (preemptive) once no turn is in
 * flight; a turn in flight is drained first. Also starts the prewarm when near the floor.
 */
function settle(config: MachineConfig, state: State): Step {
  const { ctx, phase } = state;
  const effects: Effect[] = [];
  let next = state;
  if (
    (ctx.pressure === "near" || ctx.pressure === "floor") &&
    ctx.prewarm === "idle" &&
    ctx.account !== null &&
    !ctx.hold
  ) {
    effects.push({ type: "prewarm", exclude: excludeCurrent(ctx) });
    next = withPhase(next, phase, { prewarm: "pending" });
  }
  if (
    config.mode === "tui" &&
    phase.kind === "running" &&
    ctx.pressure === "floor" &&
    ctx.sessionId !== null &&
    !ctx.hold
  ) {
    if (!budgetLeft(config, ctx)) {
      effects.push({
        type: "notice",
        message: `reached the limit of ${config.maxSwitches} switches for this session; staying on ${ctx.account?.label ?? "this account"}`,
      });
      return step(withPhase(next, phase, { hold: true }), ...effects);
    }
    if (ctx.turnActive) {
      return step(withPhase(next, { kind: "draining", cause: "floor" }), ...effects);
    }
    return beginSwitch(next, "floor", effects);
  }
  return step(next, ...effects);
}

/** Child idle at a boundary: choose the next account while the child still runs. */
function beginSwitch(state: State, cause: SwitchCause, effects: Effect[] = []): Step {
  return step(withPhase(state, { kind: "switching", cause }), ...effects, {
    type: "select",
    exclude: excludeCurrent(state.ctx),
    preferred: state.ctx.next,
    purpose: "switch",
  });
}

/** A turn ended on the usage limit in a running TUI: switch now (the child is idle). */
function onLimitInTui(config: MachineConfig, state: State): Step {
  if (state.ctx.sessionId === null) return step(state);
  if (!budgetLeft(config, state.ctx)) {
    return step(withPhase(state, { kind: "running" }, { hold: true }), {
      type: "notice",
      message: `reached the limit of ${config.maxSwitches} switches for this session; not switching`,
    });
  }
  return beginSwitch(state, "limit");
}

function stopFor(state: State, then: Then, cause: SwitchCause | null): Step {
  return step(withPhase(state, { kind: "stopping", cause, then }), { type: "stopChild" });
}

function childEnded(config: MachineConfig, state: State, code: number): Step {
  const { ctx } = state;
  const effects: Effect[] = [];
  if (ctx.account) effects.push({ type: "adoptTokens", account: ctx.account });
  if (config.mode === "exec" && ctx.account) {
    effects.push({
      type: "attribute",
      account: ctx.account,
      previous: ctx.previous,
      cause: ctx.lastCause,
      code,
    });
    if (ctx.lastTurnLimited && ctx.sessionId !== null && config.continueAfterLimit) {
      if (!budgetLeft(config, ctx)) {
        effects.push({
          type: "notice",
          message: `reached the limit of ${config.maxSwitches} switches for this run; not resuming`,
        });
        return step(withPhase(state, { kind: "done", code, reason: "max-switches" }), ...effects);
      }
      effects.push({
        type: "select",
        exclude: excludeCurrent(ctx),
        preferred: ctx.next,
        purpose: "switch",
      });
      return step(withPhase(state, { kind: "choosing", switchCause: "limit" }), ...effects);
    }
  }
  return step(withPhase(state, { kind: "done", code, reason: "child-exited" }), ...effects);
}

/** Events about the child and its rollout, shared by binding/running/draining/switching. */
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
  if (event.type === "prewarmed") {
    if (ctx.account?.id !== event.forAccount) return step(state);
    return step(withPhase(state, state.phase, { prewarm: "done", next: event.next }));
  }
  return step(state);
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
    return step(
      withPhase(state, {
        kind: "done",
        code: phase.pendingExit ?? 1,
        reason: signalled ? "signal" : "launch-failed",
      }),
      { type: "notice", message: event.message },
    );
  }
  if (event.type === "signal") {
    // The spawn is under way: stop the child as soon as it is up.
    return step(
      withPhase(state, { kind: "launching", pendingExit: SIGNAL_EXIT_CODES[event.signal] }),
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

const onRunning: Handler<"running"> = (config, state, phase, event) => {
  if (event.type === "turnStarted") {
    return step(withPhase(state, phase, { turnActive: true, lastTurnLimited: false }));
  }
  if (event.type === "turnEnded") {
    const ended = withPhase(state, phase, { turnActive: false, lastTurnLimited: event.limitHit });
    if (config.mode === "tui" && event.limitHit) return onLimitInTui(config, ended);
    return settle(config, ended);
  }
  return onChildPhaseEvent(config, state, event);
};

const onDraining: Handler<"draining"> = (config, state, phase, event) => {
  if (event.type === "turnStarted") return step(withPhase(state, phase, { turnActive: true }));
  if (event.type === "turnEnded") {
    const ended = withPhase(state, phase, { turnActive: false, lastTurnLimited: event.limitHit });
    return beginSwitch(ended, event.limitHit ? "limit" : phase.cause);
  }
  return onChildPhaseEvent(config, state, event);
};

const onSwitching: Handler<"switching"> = (config, state, phase, event) => {
  const { ctx } = state;
  if (event.type === "turnStarted") return step(withPhase(state, phase, { turnActive: true }));
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
    return stopFor(state, { kind: "launch", account: event.account }, phase.cause);
  }
  if (event.type === "exhausted") {
    if (phase.cause === "floor") {
      // The account still has a little left: stay on it until the limit really hits.
      const label = ctx.account?.label ?? "the account";
      return step(withPhase(state, { kind: "running" }, { hold: true }), {
        type: "notice",
        message: `${label} is near its floor but no other account is usable; staying on it`,
      });
    }
    const then: Then = config.canWait
      ? { kind: "wait", exhaustion: event.exhaustion, now: event.now }
      : { kind: "exit", code: 75, exhaustion: event.exhaustion };
    return stopFor(state, then, "limit");
  }
  return onChildPhaseEvent(config, state, event);
};

const onStopping: Handler<"stopping"> = (config, state, phase, event) => {
  const { ctx } = state;
  if (event.type === "childExited") {
    const effects: Effect[] = ctx.account ? [{ type: "adoptTokens", account: ctx.account }] : [];
    const stopped = withPhase(state, phase, { turnActive: false });
    const after = afterStop(config, stopped, phase.then, phase.cause);
    return step(after.state, ...effects, ...after.effects);
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
    case "stopping":
      return onStopping(config, state, phase, event);
  }
}
