/**
 * A continuation that was not taken (docs/supervisor.md "Rules every implementation keeps":
 * continuations are verified): after a limit, the continuation prompt's turn must be seen
 * starting; if it is not, it is sent once more on the same account, then the user is told the
 * task waits for them. Apart from the switches because it is the one move that stays on the
 * account. Pure, like the machine.
 */

import {
  PER_LAUNCH,
  type AccountRef,
  type MachineConfig,
  type State,
  type Step,
} from "./machine-types.js";
import { step, withPhase } from "./machine-step.js";

/** Attempts at a continuation before the user is told it waits for them. */
const CONTINUATION_ATTEMPTS = 2;

/** The start of the one line that tells the user a continuation did not run. */
export function notTaken(account: AccountRef): string {
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
