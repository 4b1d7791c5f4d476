/**
 * The state machine's moves that span phases (machine.ts holds the per-phase handlers): choosing
 * what follows an exhausted selection or a stopped child, launching (and announcing a switch),
 * deciding a preemptive switch at the floor, and what a child's exit leads to. Pure, like the
 * machine itself.
 */

import {
  PER_LAUNCH,
  type AccountRef,
  type Ctx,
  type DoneReason,
  type Effect,
  type Exhaustion,
  type HandoffChoice,
  type MachineConfig,
  type Phase,
  type State,
  type Step,
  type SwitchCause,
  type Then,
} from "./machine-types.js";

export const step = (state: State, ...effects: Effect[]): Step => ({ state, effects });

export function withPhase(state: State, phase: Phase, ctx: Partial<Ctx> = {}): State {
  return { phase, ctx: { ...state.ctx, ...ctx } };
}

export function excludeCurrent(ctx: Ctx): string[] {
  return ctx.account ? [ctx.account.id] : [];
}

/** Where an exhausted selection leads: a wait (bounded), or the end with code 75. */
export function onExhausted(
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
export function afterStop(
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
export function launchAccount(
  config: MachineConfig,
  state: State,
  account: AccountRef,
  cause: SwitchCause | null,
): Step {
  const { ctx } = state;
  const fresh: Partial<Ctx> = { account, ...PER_LAUNCH };
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

export function budgetLeft(config: MachineConfig, ctx: Ctx): boolean {
  return ctx.switches < config.maxSwitches;
}

/**
 * In a running TUI, decide whether a switch is due: at the floor (preemptive) once no turn is in
 * flight; a turn in flight is drained first. Also starts the prewarm when near the floor.
 */
export function settle(config: MachineConfig, state: State): Step {
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
export function beginSwitch(state: State, cause: SwitchCause, effects: Effect[] = []): Step {
  return step(withPhase(state, { kind: "switching", cause }), ...effects, {
    type: "select",
    exclude: excludeCurrent(state.ctx),
    preferred: state.ctx.next,
    purpose: "switch",
  });
}

/** A turn ended on the usage limit in a running TUI: switch now (the child is idle). */
export function onLimitInTui(config: MachineConfig, state: State): Step {
  if (state.ctx.sessionId === null) return step(state);
  if (!budgetLeft(config, state.ctx)) {
    return step(withPhase(state, { kind: "running" }, { hold: true }), {
      type: "notice",
      message: `reached the limit of ${config.maxSwitches} switches for this session; not switching`,
    });
  }
  return beginSwitch(state, "limit");
}

/**
 * exec: a turn ended on the usage limit and codex now exits by itself. The next account is chosen
 * (and its launch prepared) while it does; the launch waits for the exit (see childEnded).
 */
export function onLimitInExec(config: MachineConfig, state: State): Step {
  const { ctx } = state;
  if (ctx.sessionId === null || !config.continueAfterLimit || !budgetLeft(config, ctx)) {
    return settle(config, state); // the exit decides (childEnded)
  }
  return step(withPhase(state, { kind: "handoff", choice: null }), {
    type: "select",
    exclude: excludeCurrent(ctx),
    preferred: ctx.next,
    purpose: "switch",
  });
}

export function stopFor(state: State, then: Then, cause: SwitchCause | null): Step {
  return step(withPhase(state, { kind: "stopping", cause, then }), { type: "stopChild" });
}

/**
 * The child exited by itself. From `handoff` the next account's selection is already under way
 * (or done: `choice`); the launch comes after the tokens' adoption, which is emitted first.
 */
export function childEnded(
  config: MachineConfig,
  state: State,
  code: number,
  choice: HandoffChoice | null = null,
): Step {
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
      const exited = withPhase(state, { kind: "choosing", switchCause: "limit" });
      if (state.phase.kind === "handoff") {
        const then =
          choice === null
            ? step(exited)
            : choice.kind === "selected"
              ? launchAccount(config, exited, choice.account, "limit")
              : onExhausted(config, exited, choice.exhaustion, choice.now, "limit");
        return step(then.state, ...effects, ...then.effects);
      }
      effects.push({
        type: "select",
        exclude: excludeCurrent(ctx),
        preferred: ctx.next,
        purpose: "switch",
      });
      return step(exited, ...effects);
    }
  }
  return step(withPhase(state, { kind: "done", code, reason: "child-exited" }), ...effects);
}

/** Events about the child and its rollout, shared by binding/running/draining/switching. */
