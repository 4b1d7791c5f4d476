/**
 * The state machine's building blocks (machine.ts; docs/supervisor.md): a step, a state in a new
 * phase, the accounts a selection leaves out (and a switch's selection), and whether the switch budget has room. Apart from
 * the moves (machine-switch.ts, machine-end.ts, machine-continuation.ts) because every one of them
 * and every phase handler builds on these. Pure, like the machine.
 */

import type { Ctx, Effect, MachineConfig, Phase, State, Step } from "./machine-types.js";

export const step = (state: State, ...effects: Effect[]): Step => ({ state, effects });

export function withPhase(state: State, phase: Phase, ctx: Partial<Ctx> = {}): State {
  return { phase, ctx: { ...state.ctx, ...ctx } };
}

export function excludeCurrent(ctx: Ctx): string[] {
  return ctx.account ? [ctx.account.id] : [];
}

/** A switch's selection: any account but the current one, the prewarmed one first. */
export function selectNext(ctx: Ctx): Effect {
  return { type: "select", exclude: excludeCurrent(ctx), preferred: ctx.next, purpose: "switch" };
}

/** Whether the session may switch once more (`maxSwitches`). */
export function budgetLeft(config: MachineConfig, ctx: Ctx): boolean {
  return ctx.switches < config.maxSwitches;
}
