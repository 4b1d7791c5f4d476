/**
 * The state machine's moves that span phases (machine.ts holds the per-phase handlers): choosing
 * what follows an exhausted selection or a stopped child, starting codex or moving the session
 * (and announcing a switch before either), deciding a preemptive switch at the floor, resending a
 * continuation that was not taken, and what a child's exit leads to. Pure, like the machine.
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

/** What follows a stopped child: a wait for a reset, or the end. */
export function afterStop(
  config: MachineConfig,
  state: State,
  then: Then,
  cause: SwitchCause | null,
): Step {
  switch (then.kind) {
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

/** The accounts served, with `account` appended unless it is the one serving already. */
function servedWith(ctx: Ctx, account: AccountRef): readonly AccountRef[] {
  return ctx.served.at(-1)?.id === account.id ? ctx.served : [...ctx.served, account];
}

/** The context of a switch to `account` (a move, or a relaunch after the child ended). */
function switchedCtx(
  config: MachineConfig,
  ctx: Ctx,
  account: AccountRef,
  cause: SwitchCause,
): Partial<Ctx> {
  const switchingAccount = ctx.account !== null && ctx.account.id !== account.id;
  const continuation = cause === "limit" && config.continueAfterLimit;
  return {
    account,
    ...PER_LAUNCH,
    switches: ctx.switches + 1,
    previous: switchingAccount ? ctx.account : ctx.previous,
    lastCause: cause,
    served: servedWith(ctx, account),
    continuation: continuation ? { account: account.id, attempt: 1 } : null,
  };
}

/** The switch line, when the session changes account (said before codex runs on the next). */
function announcement(ctx: Ctx, to: AccountRef, cause: SwitchCause): Effect[] {
  if (ctx.sessionId === null || ctx.account === null || ctx.account.id === to.id) return [];
  return [{ type: "announceSwitch", sessionId: ctx.sessionId, from: ctx.account, to, cause }];
}

/**
 * Start codex on `account` while none runs: the first launch, or a relaunch of the bound session
 * after its child ended (exec after a limit, or after a wait for a reset).
 */
export function launchAccount(
  config: MachineConfig,
  state: State,
  account: AccountRef,
  cause: SwitchCause | null,
): Step {
  const { ctx } = state;
  const launching = { kind: "launching", pendingExit: null } as const;
  if (ctx.sessionId !== null && ctx.account !== null && cause !== null) {
    const next = switchedCtx(config, ctx, account, cause);
    const resume = { sessionId: ctx.sessionId, continuation: next.continuation != null };
    return step(withPhase(state, launching, next), ...announcement(ctx, account, cause), {
      type: "start",
      account,
      sessionId: ctx.sessionId,
      resume,
    });
  }
  // The first launch (or a relaunch after a wait with no session to resume yet). The very first
  // launch runs the user's own argv even when it names a session (`resume <id> "prompt"`): a
  // rebuilt resume argv would drop their prompt.
  const firstLaunch = ctx.account === null;
  const resume =
    ctx.sessionId !== null && !firstLaunch
      ? { sessionId: ctx.sessionId, continuation: false }
      : null;
  return step(
    withPhase(state, launching, {
      account,
      ...PER_LAUNCH,
      served: servedWith(ctx, account),
      continuation: null,
    }),
    { type: "start", account, sessionId: ctx.sessionId, resume },
  );
}

/** The running session, idle at a turn boundary, moves to `to`. */
export function moveTo(
  config: MachineConfig,
  state: State,
  to: AccountRef,
  cause: SwitchCause,
): Step {
  const { ctx } = state;
  if (ctx.sessionId === null || ctx.account === null) return step(state); // never bound: nothing to move
  const next = switchedCtx(config, ctx, to, cause);
  return step(
    withPhase(state, { kind: "launching", pendingExit: null }, next),
    ...announcement(ctx, to, cause),
    {
      type: "move",
      from: ctx.account,
      to,
      sessionId: ctx.sessionId,
      continuation: next.continuation != null,
      resend: false,
    },
  );
}

/**
 * The switching port moved the session to `account` by itself, mid-turn (live mode: codex's
 * refresh request for an account that can no longer sign in was answered with the next one). The
 * turn goes on; the machine records the move and says so, like one of its own switches, but it is
 * not counted against maxSwitches: the budget limits the moves the machine chooses, and this one
 * was the only way for the session to go on at all.
 */
export function accountReplaced(state: State, account: AccountRef): Step {
  const { ctx } = state;
  if (ctx.account === null || ctx.account.id === account.id) return step(state);
  const next = withPhase(state, state.phase, {
    account,
    previous: ctx.account,
    served: servedWith(ctx, account),
    lastCause: "signed-out",
    pressure: "ok",
    prewarm: "idle",
    next: null,
    hold: false,
  });
  return step(next, ...announcement(ctx, account, "signed-out"));
}

/** Attempts at a continuation before the user is told it waits for them. */
export const CONTINUATION_ATTEMPTS = 2;

/** The start of the one line that tells the user a continuation did not run. */
function notTaken(account: AccountRef): string {
  return `codex did not run the continuation prompt on ${account.label}: the interrupted task is waiting for you`;
}

/**
 * The continuation's turn did not start within its bound: send it again on the same account once
 * (no switch: the session stays where it is), then tell the user the task waits for them.
 */
export function onContinuationMissed(config: MachineConfig, state: State): Step {
  const { ctx } = state;
  const pending = ctx.continuation;
  if (pending === null || ctx.account === null || ctx.sessionId === null) return step(state);
  // exec runs its prompt or exits (its end decides), and a move is a TUI's only: no resend there.
  if (
    config.mode !== "tui" ||
    state.phase.kind !== "running" ||
    ctx.turnActive ||
    pending.account !== ctx.account.id
  ) {
    return step(withPhase(state, state.phase, { continuation: null }));
  }
  if (pending.attempt >= CONTINUATION_ATTEMPTS) {
    return step(withPhase(state, state.phase, { continuation: null }), {
      type: "notice",
      message: `${notTaken(ctx.account)}: type your next instruction (e.g. "continue") to go on`,
    });
  }
  return step(
    withPhase(
      state,
      { kind: "launching", pendingExit: null },
      {
        ...PER_LAUNCH,
        // Still the same account: who else runs it still holds.
        takenBy: ctx.takenBy,
        continuation: { account: pending.account, attempt: pending.attempt + 1 },
      },
    ),
    {
      type: "move",
      from: ctx.account,
      to: ctx.account,
      sessionId: ctx.sessionId,
      continuation: true,
      resend: true,
    },
  );
}

export function budgetLeft(config: MachineConfig, ctx: Ctx): boolean {
  return ctx.switches < config.maxSwitches;
}

/**
 * In a running TUI, decide whether a switch is due: at the floor (preemptive), or when another
 * session took the account over (a lost lease), once no turn is in flight; a turn in flight is
 * drained first. Also starts the prewarm when near the floor.
 */
export function settle(config: MachineConfig, state: State): Step {
  const { ctx, phase } = state;
  // The floor first: it says more about the account than who else runs it.
  const cause: SwitchCause | null =
    ctx.pressure === "floor" ? "floor" : ctx.takenBy !== null ? "lease" : null;
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
    cause !== null &&
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
      return step(withPhase(next, { kind: "draining", cause }), ...effects);
    }
    return beginSwitch(next, cause, effects);
  }
  return step(next, ...effects);
}

/**
 * Our lease on the running account lapsed while we were silent, and another session (`by`) now
 * runs it. A TUI moves at its next turn boundary, decided like a floor (settle: never cutting a
 * turn); an exec run stays until it ends, since it never moves between turns. The user is told
 * once; the account is shared meanwhile.
 */
export function onLeaseLost(config: MachineConfig, state: State, by: string): Step {
  const { ctx } = state;
  const known = ctx.takenBy !== null;
  const next = settle(config, withPhase(state, state.phase, { takenBy: by }));
  if (known) return next;
  const label = ctx.account?.label ?? "the account";
  const moves = config.mode === "tui" && !ctx.hold && budgetLeft(config, ctx);
  const notice: Effect = {
    type: "notice",
    message: `${label} is now used by ${by}: this session's lease on it lapsed while it was silent; ${moves ? "moving to another account at the next turn boundary" : config.mode === "exec" ? "this run stays on it until it ends" : "staying on it"}`,
  };
  return step(next.state, notice, ...next.effects);
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
  return step(withPhase(state, { kind: "stopping", cause, then }), { type: "stop" });
}

/**
 * The child exited by itself. From `handoff` the next account's selection is already under way
 * (or done: `choice`). (What codex left behind, e.g. its rotated tokens, is the switching port's
 * to take back before it reports the exit.)
 */
export function childEnded(
  config: MachineConfig,
  ended: State,
  code: number,
  choice: HandoffChoice | null = null,
): Step {
  const { ctx } = ended;
  const effects: Effect[] = [];
  if (ctx.continuation !== null && ctx.account !== null && ctx.sessionId !== null) {
    // Codex ended before the continuation's turn was seen starting: say so, once.
    effects.push({
      type: "notice",
      message: `${notTaken(ctx.account)} (resume the session with \`codex-pool run resume ${ctx.sessionId}\`)`,
    });
  }
  const state = withPhase(ended, ended.phase, { continuation: null });
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
