/**
 * The effect runner: drives machine.ts with real effects through ports (session-ports.ts).
 * Events are handled one at a time from a queue, so the machine never sees two at once; effects
 * run concurrently and report back as events.
 *
 * The runner's state is explicit and small (`RunnerState`): the machine's own state is the only
 * session state (its id, the account, the accounts served); what codex is doing lives behind the
 * switching port. Every wait is on `ports.clock`, so the runner is tested in virtual time with
 * fake ports (test/supervisor/runner.test.ts).
 *
 * If supervising itself fails while codex runs (e.g. the pool lock cannot be had), codex is left
 * running unsupervised and its exit code is still ours (docs/supervisor-rules.md R16); nothing is
 * relaunched after the user or the system asked us to stop (R17).
 */
import { CancelledError, errorMessage, isCodexPoolError } from "../platform/errors.js";
import {
  initialState,
  startEffects,
  transition,
  type Effect,
  type Event,
  type State,
} from "./machine.js";
import {
  livePhaseOf,
  type RunSessionOptions,
  type SessionControl,
  type SessionPorts,
  type SessionResult,
  type SwitchEvent,
  type SwitchingPort,
} from "./session-ports.js";
import { waitOutExhaustion } from "./wait-for-reset.js";

export type * from "./session-ports.js";

/** What the runner holds between events (and nothing else: no shadow of the machine's context). */
interface RunnerState {
  machine: State;
  /** Aborts the start or move in flight (a signal arrived meanwhile). */
  launch: AbortController | null;
  /**
   * What the new codex reported before its start or move settled: handed to the machine right
   * after `launched`, so it never sees a codex's events before that codex runs.
   */
  early: Event[];
  /** The first failure of supervision itself; the loop reacts to it. */
  fatal: unknown;
  /** Our live-session entry as last published (not written again when unchanged). */
  published: string | null;
}

class SessionRunner {
  private readonly rs: RunnerState;
  private readonly queue: Event[] = [];
  private wake: (() => void) | null = null;
  /** Cancels selections, prewarms and waits once the session is over. */
  private readonly cancel = new AbortController();
  private readonly pending = new Set<Promise<unknown>>();
  private readonly switcher: SwitchingPort;
  private readonly ports: SessionPorts;
  private readonly options: RunSessionOptions;

  constructor(ports: SessionPorts, options: RunSessionOptions) {
    this.ports = ports;
    this.options = options;
    this.rs = {
      machine: initialState(options.sessionId),
      launch: null,
      early: [],
      fatal: null,
      published: null,
    };
    this.switcher = ports.switcher((event) => this.onSwitchEvent(event));
    // Held like codex's own events while a start or move is in flight: it is about the account
    // codex runs on, which the machine learns only once that codex runs.
    ports.onLeaseLost((lost) => this.fromCodex({ type: "leaseLost", ...lost }));
  }

  get state(): State {
    return this.rs.machine;
  }

  dispatch(event: Event): void {
    this.queue.push(event);
    this.wake?.();
  }

  childRunning(): boolean {
    return this.switcher.running();
  }

  private onSwitchEvent(event: SwitchEvent): void {
    switch (event.type) {
      case "warning":
        this.ports.output.notice(event.message);
        return;
      case "exited":
        this.fromCodex({ type: "childExited", code: event.code });
        return;
      case "bound":
      case "turnStarted":
      case "turnEnded":
      case "pressure":
      case "continuationMissed":
      case "accountReplaced":
        this.fromCodex(event);
        return;
    }
  }

  private fromCodex(event: Event): void {
    if (this.rs.launch !== null) this.rs.early.push(event);
    else this.dispatch(event);
  }

  private track(p: Promise<unknown>): void {
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  private fail(error: unknown): void {
    this.rs.fatal ??= error;
    this.wake?.();
  }

  private spawnTask(task: () => Promise<void>): void {
    this.track(task().catch((error: unknown) => this.fail(error)));
  }

  /** A start or a move: `launched` once codex runs, `launchFailed` when it could not. */
  private launch(op: (signal: AbortSignal) => Promise<void>): void {
    const controller = new AbortController();
    this.rs.launch = controller;
    const settled = (event: Event): void => {
      if (this.rs.launch === controller) this.rs.launch = null;
      this.dispatch(event);
      for (const early of this.rs.early.splice(0)) this.dispatch(early);
    };
    this.track(
      op(controller.signal).then(
        () => settled({ type: "launched" }),
        (error: unknown) =>
          settled({
            type: "launchFailed",
            message: errorMessage(error),
            cancelled: error instanceof CancelledError && controller.signal.aborted,
            ...(isCodexPoolError(error) ? { code: error.exitCode } : {}),
          }),
      ),
    );
  }

  private perform(effect: Effect): void {
    const { ports } = this;
    switch (effect.type) {
      case "select":
        this.spawnTask(async () => {
          const outcome = await ports.select(effect, this.cancel.signal);
          if (this.cancel.signal.aborted) return;
          this.dispatch(
            outcome.kind === "selected"
              ? { type: "selected", account: outcome.account }
              : { type: "exhausted", exhaustion: outcome.exhaustion, now: ports.clock.now() },
          );
        });
        return;
      case "prewarm": {
        const forAccount = this.rs.machine.ctx.account?.id ?? "";
        this.track(
          ports
            .prewarm(effect.exclude, this.cancel.signal)
            .catch(() => null) // a prewarm is an optimisation: the switch chooses anyway
            .then((next) => this.dispatch({ type: "prewarmed", forAccount, next })),
        );
        return;
      }
      case "start":
        this.launch((signal) =>
          this.switcher.start(
            { account: effect.account, sessionId: effect.sessionId, resume: effect.resume },
            signal,
          ),
        );
        return;
      case "move":
        this.launch((signal) => this.switcher.move(effect, signal));
        return;
      case "stop":
        this.spawnTask(() => this.switcher.stop());
        return;
      case "abortLaunch":
        this.rs.launch?.abort(new CancelledError("stopped before codex started"));
        return;
      case "announceSwitch":
        ports.output.announceSwitch(effect.sessionId, effect.from, effect.to, effect.cause);
        return;
      case "attribute":
        ports.output.attribute(effect.account, effect.previous, effect.cause, effect.code);
        return;
      case "wait":
        this.spawnTask(async () => {
          // Over at the reset, or once another machine's change makes an account usable.
          const over = await waitOutExhaustion(ports, effect, this.cancel.signal);
          if (over) this.dispatch({ type: "waitOver" }); // else the machine already moved on
        });
        return;
      case "cancel":
        this.cancel.abort();
        return;
      case "notice":
        ports.output.notice(effect.message);
        return;
    }
  }

  private publish(): void {
    const { phase, ctx } = this.rs.machine;
    const live = livePhaseOf(phase);
    if (live === null || ctx.account === null) return;
    const key = `${ctx.account.id}|${ctx.sessionId ?? ""}|${live}`;
    if (key === this.rs.published) return;
    this.rs.published = key;
    this.track(
      this.ports
        .publish({ account: ctx.account.id, sessionId: ctx.sessionId, phase: live })
        .catch((error: unknown) => {
          this.ports.output.notice(
            `could not record this session in the pool: ${errorMessage(error)}`,
          );
        }),
    );
  }

  private next(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.wake = resolve;
    }).finally(() => {
      this.wake = null;
    });
  }

  async loop(): Promise<SessionResult> {
    for (const effect of startEffects()) this.perform(effect);
    while (this.rs.machine.phase.kind !== "done") {
      if (this.rs.fatal !== null) return this.unsupervised(this.rs.fatal);
      const event = this.queue.shift();
      if (event === undefined) {
        await this.next();
        continue;
      }
      const step = transition(this.options.config, this.rs.machine, event);
      this.rs.machine = step.state;
      for (const effect of step.effects) this.perform(effect);
      this.publish();
    }
    this.cancel.abort();
    await this.switcher.close();
    await Promise.allSettled([...this.pending]);
    const phase = this.rs.machine.phase;
    return {
      code: phase.kind === "done" ? phase.code : 1,
      state: this.rs.machine,
      exhaustion: phase.kind === "done" ? (phase.exhaustion ?? null) : null,
    };
  }

  /** Supervision failed: codex, if it runs, goes on by itself and its exit code is ours (R16). */
  private async unsupervised(fatal: unknown): Promise<SessionResult> {
    this.cancel.abort();
    if (!this.switcher.running()) {
      await this.switcher.close();
      throw isCodexPoolError(fatal) || fatal instanceof Error
        ? fatal
        : new Error(errorMessage(fatal));
    }
    this.ports.output.notice(
      `supervision stopped (${errorMessage(fatal)}); codex keeps running on its own`,
    );
    const code = await this.switcher.release();
    return { code: code ?? 1, state: this.rs.machine, exhaustion: null };
  }
}

export function startSession(ports: SessionPorts, options: RunSessionOptions): SessionControl {
  const runner = new SessionRunner(ports, options);
  return {
    signal: (signal) => runner.dispatch({ type: "signal", signal }),
    childRunning: () => runner.childRunning(),
    state: () => runner.state,
    done: runner.loop(),
  };
}
