/**
 * The effect runner: drives machine.ts with real effects through `SessionPorts` (selection,
 * launch, watching, token adoption, output). Events are handled one at a time from a queue, so the
 * machine never sees two at once; effects run concurrently and report back as events.
 *
 * If supervising itself fails while codex runs (e.g. the pool lock cannot be had), codex is left
 * running unsupervised and its exit code is still ours (SEED_SUPERVISOR.md R16); nothing is
 * relaunched after the user or the system asked us to stop (R17).
 */
import { errorMessage } from "../platform/errors.js";
import {
  initialState,
  isChildRunning,
  startEffects,
  transition,
  type AccountRef,
  type Effect,
  type Event,
} from "./machine.js";
import {
  livePhaseOf,
  type LaunchedChild,
  type RunSessionOptions,
  type SessionControl,
  type SessionPorts,
  type SessionResult,
  type Watcher,
} from "./session-ports.js";
import { exitCodeOf, stopChild } from "./stop-child.js";
import { waitUntil } from "./wait-for-reset.js";

export type * from "./session-ports.js";

export function startSession(ports: SessionPorts, options: RunSessionOptions): SessionControl {
  const { config } = options;
  let state = initialState(options.sessionId);
  const queue: Event[] = [];
  let wake: (() => void) | null = null;
  const cancel = new AbortController();
  let child: LaunchedChild | null = null;
  let watcher: Watcher | null = null;
  let fatal: unknown = null;
  const pending = new Set<Promise<unknown>>();
  /** Token adoptions under way, by account: a launch on that account waits for its own. */
  const adopting = new Map<string, Promise<void>>();
  /** The switch line of the launch about to happen (written before its spawn). */
  let announced: Promise<void> = Promise.resolve();

  const dispatch = (event: Event): void => {
    queue.push(event);
    wake?.();
  };
  const track = (p: Promise<unknown>): void => {
    pending.add(p);
    void p.finally(() => pending.delete(p));
  };
  const fail = (error: unknown): void => {
    fatal ??= error;
    wake?.();
  };
  const run = (task: () => Promise<void>): void => {
    track(task().catch(fail));
  };

  const launch = async (
    account: AccountRef,
    resume: { sessionId: string; continuation: boolean } | null,
  ): Promise<void> => {
    let launched: LaunchedChild;
    const announcement = announced;
    announced = Promise.resolve();
    try {
      // Tokens the last child on this account rotated must be in the pool before it relaunches.
      await adopting.get(account.id);
      launched = await ports.launch(account, resume, () => announcement);
    } catch (error) {
      dispatch({ type: "launchFailed", message: errorMessage(error) });
      return;
    }
    child = launched;
    ports.setChild(launched.child);
    const w = ports.watch(
      {
        account,
        sessionId: resume?.sessionId ?? state.ctx.sessionId,
        launchedAt: ports.clock.now(),
        pid: launched.child.pid ?? null,
        resumed: resume !== null || state.ctx.sessionId !== null,
      },
      dispatch,
    );
    watcher = w;
    dispatch({ type: "launched" });
    track(
      launched.exited.then(async (outcome) => {
        // Whatever the rollout still holds (the failed turn's usage_limit_exceeded) comes first.
        await w.drain().catch(fail);
        if (child === launched) {
          child = null;
          ports.setChild(null);
        }
        if (watcher === w) watcher = null;
        dispatch({ type: "childExited", code: exitCodeOf(outcome) });
      }),
    );
  };

  const perform = (effect: Effect): void => {
    switch (effect.type) {
      case "select":
        run(async () => {
          const outcome = await ports.select(effect, cancel.signal);
          if (cancel.signal.aborted) return;
          dispatch(
            outcome.kind === "selected"
              ? { type: "selected", account: outcome.account }
              : { type: "exhausted", exhaustion: outcome.exhaustion, now: ports.clock.now() },
          );
        });
        return;
      case "prewarm": {
        const forAccount = state.ctx.account?.id ?? "";
        track(
          ports
            .prewarm(effect.exclude, cancel.signal)
            .catch(() => null)
            .then((next) => dispatch({ type: "prewarmed", forAccount, next })),
        );
        return;
      }
      case "launch":
        run(() => launch(effect.account, effect.resume));
        return;
      case "stopChild": {
        const current = child;
        if (current) {
          run(async () => {
            await stopChild(current.child, { graceMs: options.killGraceMs });
          });
        }
        return;
      }
      case "adoptTokens": {
        const id = effect.account.id;
        const adoption = ports.adoptTokens(effect.account).catch((error: unknown) => {
          ports.notice(
            `could not take back ${effect.account.label}'s tokens: ${errorMessage(error)}`,
          );
        });
        const after = (adopting.get(id) ?? Promise.resolve()).then(() => adoption);
        adopting.set(id, after);
        track(
          after.finally(() => {
            if (adopting.get(id) === after) adopting.delete(id);
          }),
        );
        return;
      }
      case "announceSwitch":
        // Started now (it reads the pool) alongside the launch, which awaits it before spawning.
        announced = ports
          .announceSwitch(effect.sessionId, effect.from, effect.to, effect.cause)
          .catch(() => undefined);
        return;
      case "attribute":
        ports.attribute(effect.account, effect.previous, effect.cause, effect.code);
        return;
      case "wait":
        run(async () => {
          try {
            await waitUntil({
              until: effect.until,
              clock: ports.clock,
              signal: cancel.signal,
              tick: (ms) => ports.countdown(ms, effect.exhaustion),
            });
          } catch {
            return; // cancelled: the machine already moved on
          } finally {
            ports.countdown(null, effect.exhaustion);
          }
          dispatch({ type: "waitOver" });
        });
        return;
      case "cancel":
        cancel.abort();
        return;
      case "notice":
        ports.notice(effect.message);
        return;
    }
  };

  let lastPublished: string | null = null;
  const publish = (): void => {
    const phase = livePhaseOf(state.phase);
    const account = state.ctx.account;
    if (phase === null || account === null) return;
    const key = `${account.id}|${state.ctx.sessionId ?? ""}|${phase}`;
    if (key === lastPublished) return;
    lastPublished = key;
    track(
      ports
        .publish({ account: account.id, sessionId: state.ctx.sessionId, phase })
        .catch((error: unknown) => {
          ports.notice(`could not record this session in the pool: ${errorMessage(error)}`);
        }),
    );
  };

  const loop = async (): Promise<SessionResult> => {
    for (const effect of startEffects()) perform(effect);
    while (state.phase.kind !== "done") {
      if (fatal !== null) {
        const running = child;
        if (!running) throw fatal instanceof Error ? fatal : new Error(errorMessage(fatal));
        // Supervision failed, codex did not: let it run, and return its code (R16).
        ports.notice(
          `supervision stopped (${errorMessage(fatal)}); codex keeps running on its own`,
        );
        await watcher?.stop();
        cancel.abort();
        const code = exitCodeOf(await running.exited);
        return { code, state, exhaustion: null };
      }
      const event = queue.shift();
      if (event === undefined) {
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = null;
        continue;
      }
      const step = transition(config, state, event);
      state = step.state;
      for (const effect of step.effects) perform(effect);
      publish();
    }
    cancel.abort();
    await watcher?.stop();
    await Promise.allSettled([...pending]);
    const phase = state.phase;
    return {
      code: phase.kind === "done" ? phase.code : 1,
      state,
      exhaustion: phase.kind === "done" ? (phase.exhaustion ?? null) : null,
    };
  };

  return {
    signal: (signal) => dispatch({ type: "signal", signal }),
    childRunning: () => child !== null || isChildRunning(state.phase),
    done: loop(),
  };
}
