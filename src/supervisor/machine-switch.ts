/**
 * The state machine's switches (machine.ts holds the per-phase handlers): deciding a switch at
 * the floor, on a lost lease or on a limit, beginning it, and carrying it out, by starting codex
 * on the next account or moving the running session there (with the switch line before either);
 * and recording a move the switching port made by itself. Pure, like the machine.
 */

import {
  PER_LAUNCH,
  type AccountRef,
  type Ctx,
  type Effect,
  type MachineConfig,
  type State,
  type Step,
  type SwitchCause,
} from "./machine-types.js";
import { budgetLeft, excludeCurrent, selectNext, step, withPhase } from "./machine-step.js";

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
  return step(withPhase(state, { kind: "switching", cause }), ...effects, selectNext(state.ctx));
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
  return step(withPhase(state, { kind: "handoff", choice: null }), selectNext(ctx));
}
