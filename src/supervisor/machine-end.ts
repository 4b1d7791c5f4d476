/**
 * How the state machine's session ends or waits (machine.ts holds the per-phase handlers): what
 * an exhausted selection leads to (a bounded wait for a reset, or code 75), stopping the child and
 * what follows it, and what a child's own exit leads to (exec: the resume on the next account
 * after a limit; else the end with its code). Pure, like the machine.
 */

import type {
  DoneReason,
  Effect,
  Exhaustion,
  HandoffChoice,
  MachineConfig,
  State,
  Step,
  SwitchCause,
  Then,
} from "./machine-types.js";
import { notTaken } from "./machine-continuation.js";
import { budgetLeft, selectNext, step, withPhase } from "./machine-step.js";
import { launchAccount } from "./machine-switch.js";

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
      effects.push(selectNext(ctx));
      return step(exited, ...effects);
    }
  }
  return step(withPhase(state, { kind: "done", code, reason: "child-exited" }), ...effects);
}
