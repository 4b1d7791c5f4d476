/**
 * The session runner (src/supervisor/run-session.ts) with fake ports, in virtual time: no process,
 * no file, no wall clock. A fake switching port stands in for codex (the test decides when it runs,
 * what it reports and when it exits), so the runner's error paths are driven step by step: the
 * child exiting during a stop, a launch failing while a signal is pending, supervision failing
 * while codex keeps running, tokens that could not be taken back, a continuation not taken, and a
 * pool-exhausted wait counted down on the virtual clock.
 */
import { describe, expect, it } from "vitest";
import { TokensInDoubtError } from "../../src/codex/adopt.js";
import { CancelledError, LockTimeoutError } from "../../src/platform/errors.js";
import type { AccountRef, Exhaustion, MachineConfig } from "../../src/supervisor/machine.js";
import {
  startSession,
  type MoveRequest,
  type SelectOutcome,
  type SelectRequest,
  type SessionControl,
  type SessionPorts,
  type StartRequest,
  type SwitchEvent,
  type SwitchingPort,
} from "../../src/supervisor/run-session.js";
import { VirtualClock } from "../helpers/virtual-clock.js";

const A: AccountRef = { id: "acc_aaaaaa", label: "alice@example.com" };
const B: AccountRef = { id: "acc_bbbbbb", label: "bob@example.com" };
const SID = "0193aaaa-bbbb-7ccc-8ddd-eeeeeeeeeeee";

const tui: MachineConfig = {
  mode: "tui",
  maxSwitches: 5,
  continueAfterLimit: true,
  canWait: true,
  maxWaitMs: 3600_000,
};

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A start or move the test completes (codex runs) or fails. */
interface Launch {
  readonly kind: "start" | "move";
  readonly request: StartRequest | MoveRequest;
  readonly signal: AbortSignal;
  up(): void;
  fail(error: unknown): void;
}

/** Stands in for codex behind the switching port: the test decides everything it does. */
class FakeCodex implements SwitchingPort {
  readonly launches: Launch[] = [];
  private emitter: ((event: SwitchEvent) => void) | null = null;
  private runningNow = false;
  private released: Deferred<number | null> | null = null;
  private readonly log: string[];

  constructor(log: string[]) {
    this.log = log;
  }

  attach(emit: (event: SwitchEvent) => void): this {
    this.emitter = emit;
    return this;
  }

  emit(event: SwitchEvent): void {
    this.emitter?.(event);
  }

  private launch(kind: Launch["kind"], request: Launch["request"], signal: AbortSignal) {
    const done = deferred<void>();
    this.launches.push({
      kind,
      request,
      signal,
      up: () => {
        this.runningNow = true;
        done.resolve();
      },
      fail: (error) => done.reject(error),
    });
    return done.promise;
  }

  start(request: StartRequest, signal: AbortSignal): Promise<void> {
    const how =
      request.resume === null
        ? "own argv"
        : request.resume.continuation
          ? "resume+continue"
          : "resume";
    this.log.push(`start ${request.account.label} (${how})`);
    return this.launch("start", request, signal);
  }

  move(request: MoveRequest, signal: AbortSignal): Promise<void> {
    this.log.push(
      `move ${request.from.label} → ${request.to.label}${request.continuation ? " +continue" : ""}${request.resend ? " (resend)" : ""}`,
    );
    this.runningNow = false; // the old codex is stopped first
    return this.launch("move", request, signal);
  }

  stop(): Promise<void> {
    this.log.push("stop");
    return Promise.resolve();
  }

  running(): boolean {
    return this.runningNow;
  }

  /** Codex ends (by itself, or after `stop`). */
  exit(code: number): void {
    this.runningNow = false;
    if (this.released !== null) this.released.resolve(code);
    else this.emit({ type: "exited", code });
  }

  release(): Promise<number | null> {
    this.log.push("release");
    if (!this.runningNow) return Promise.resolve(null);
    this.released = deferred<number | null>();
    return this.released.promise;
  }

  close(): Promise<void> {
    this.log.push("close");
    return Promise.resolve();
  }

  get last(): Launch {
    const l = this.launches.at(-1);
    if (l === undefined) throw new Error("no launch yet");
    return l;
  }
}

interface Harness {
  clock: VirtualClock;
  codex: FakeCodex;
  session: SessionControl;
  log: string[];
  /** Selections asked for, each answered by the test. */
  selects: Array<{ request: SelectRequest; answer: Deferred<SelectOutcome> }>;
  countdowns: number[];
  /** Runs the runner until `what` holds (virtual time moves only for the runner's own timers). */
  until(what: string, done: () => boolean): Promise<void>;
}

function harness(config: MachineConfig = tui, sessionId: string | null = null): Harness {
  const clock = new VirtualClock();
  const log: string[] = [];
  const codex = new FakeCodex(log);
  const selects: Harness["selects"] = [];
  const countdowns: number[] = [];
  const ports: SessionPorts = {
    clock,
    select: (request) => {
      const answer = deferred<SelectOutcome>();
      selects.push({ request, answer });
      return answer.promise;
    },
    prewarm: () => Promise.resolve(null),
    publish: () => Promise.resolve(),
    output: {
      notice: (message) => log.push(`line: ${message}`),
      announceSwitch: (_id, from, to, cause) =>
        log.push(`line: moved from ${from.label} to ${to.label} (${cause})`),
      attribute: (account, _previous, _cause, code) =>
        log.push(`line: served by ${account.label}, exit ${code}`),
      countdown: (ms) => {
        if (ms !== null) countdowns.push(ms);
      },
    },
    switcher: (emit) => codex.attach(emit),
  };
  const session = startSession(ports, { config, sessionId });
  return {
    clock,
    codex,
    session,
    log,
    selects,
    countdowns,
    until: (what, done) => clock.until(what, done),
  };
}

/** Selects A, brings codex up on it and binds the session. */
async function runningOnA(h: Harness): Promise<void> {
  await h.until("the first selection", () => h.selects.length === 1);
  h.selects[0]!.answer.resolve({ kind: "selected", account: A });
  await h.until("the start", () => h.codex.launches.length === 1);
  h.codex.last.up();
  h.codex.emit({ type: "bound", sessionId: SID });
  await h.until("the session to run", () => h.session.state().phase.kind === "running");
}

/** A's turn fails on the usage limit: the runner asks for the next account. */
async function limitOnA(h: Harness): Promise<void> {
  h.codex.emit({ type: "turnStarted" });
  h.codex.emit({ type: "turnEnded", limitHit: true });
  await h.until("the switch's selection", () => h.selects.length === 2);
}

describe("the runner, with fake ports in virtual time", () => {
  it("a limit moves the session to B: the switch line's place comes before the move", async () => {
    const h = harness();
    await runningOnA(h);
    await limitOnA(h);
    expect(h.selects[1]!.request).toMatchObject({ exclude: [A.id], purpose: "switch" });
    h.selects[1]!.answer.resolve({ kind: "selected", account: B });
    await h.until("the move", () => h.codex.launches.length === 2);
    expect(h.log).toEqual([
      "start alice@example.com (own argv)",
      "line: moved from alice@example.com to bob@example.com (limit)",
      "move alice@example.com → bob@example.com +continue",
    ]);
    h.codex.last.up();
    h.codex.emit({ type: "turnStarted" }); // the continuation was taken
    h.codex.exit(0); // the user quits
    const result = await h.session.done;
    expect(result.code).toBe(0);
    expect(result.state.ctx.served).toEqual([A, B]);
    expect(result.state.ctx.sessionId).toBe(SID);
    expect(h.log.at(-1)).toBe("close");
  });

  it("a continuation not taken is sent once more, then the user is told, in virtual time", async () => {
    const h = harness();
    await runningOnA(h);
    await limitOnA(h);
    h.selects[1]!.answer.resolve({ kind: "selected", account: B });
    await h.until("the move", () => h.codex.launches.length === 2);
    h.codex.last.up();
    h.codex.emit({ type: "continuationMissed" });
    await h.until("the resend", () => h.codex.launches.length === 3);
    expect(h.log.at(-1)).toBe("move bob@example.com → bob@example.com +continue (resend)");
    h.codex.last.up();
    h.codex.emit({ type: "continuationMissed" });
    await h.until("the user to be told", () => h.log.at(-1)?.startsWith("line: ") === true);
    expect(h.log.at(-1)).toMatch(
      /^line: codex did not run the continuation prompt on bob@example\.com: the interrupted task is waiting for you/,
    );
    expect(h.codex.launches).toHaveLength(3); // no third attempt
    h.codex.exit(0);
    expect((await h.session.done).code).toBe(0);
  });

  it("the child exiting by itself during a stop ends with the signal's code", async () => {
    const h = harness();
    await runningOnA(h);
    h.session.signal("SIGTERM");
    await h.until("the stop", () => h.log.includes("stop"));
    h.codex.exit(0); // it was already on its way out: its own code is not ours
    const result = await h.session.done;
    expect(result.code).toBe(143);
    expect(h.codex.launches).toHaveLength(1);
  });

  it("a launch given up for a pending signal ends with its code, starts nothing, says nothing", async () => {
    const h = harness();
    await h.until("the first selection", () => h.selects.length === 1);
    h.selects[0]!.answer.resolve({ kind: "selected", account: A });
    await h.until("the start", () => h.codex.launches.length === 1);
    h.session.signal("SIGTERM");
    await h.until("the abort", () => h.codex.last.signal.aborted);
    h.codex.last.fail(new CancelledError("stopped before codex started"));
    const result = await h.session.done;
    expect(result.code).toBe(143);
    expect(h.log.filter((l) => l.startsWith("line: "))).toEqual([]);
    expect(h.codex.launches).toHaveLength(1);
  });

  it("a launch failing for its own reason while a signal is pending: the signal's code, and why", async () => {
    const h = harness();
    await h.until("the first selection", () => h.selects.length === 1);
    h.selects[0]!.answer.resolve({ kind: "selected", account: A });
    await h.until("the start", () => h.codex.launches.length === 1);
    h.session.signal("SIGHUP");
    await h.until("the abort", () => h.codex.last.signal.aborted);
    h.codex.last.fail(new Error("cannot start codex at /nowhere: it does not exist"));
    const result = await h.session.done;
    expect(result.code).toBe(129);
    expect(h.log).toContain("line: cannot start codex at /nowhere: it does not exist");
  });

  it("tokens that could not be taken back fail the launch with the reason; nothing else runs", async () => {
    const h = harness();
    await runningOnA(h);
    await limitOnA(h);
    h.selects[1]!.answer.resolve({ kind: "selected", account: B });
    await h.until("the move", () => h.codex.launches.length === 2);
    h.codex.last.fail(
      new TokensInDoubtError("could not take back the tokens codex left for bob@example.com"),
    );
    const result = await h.session.done;
    expect(result.code).toBe(66);
    expect(h.log).toContain("line: could not take back the tokens codex left for bob@example.com");
    expect(h.codex.launches).toHaveLength(2);
  });

  it("supervision failing while codex runs leaves codex running; its exit code is ours", async () => {
    const h = harness();
    await runningOnA(h);
    await limitOnA(h);
    h.selects[1]!.answer.reject(new LockTimeoutError("the pool is busy: held by pid 7"));
    await h.until("the release", () => h.log.includes("release"));
    expect(h.log).toContain(
      "line: supervision stopped (the pool is busy: held by pid 7); codex keeps running on its own",
    );
    h.codex.exit(3);
    const result = await h.session.done;
    expect(result.code).toBe(3);
    expect(h.codex.launches).toHaveLength(1); // nothing relaunched
  });

  it("supervision failing with no codex running fails the run", async () => {
    const h = harness();
    await h.until("the first selection", () => h.selects.length === 1);
    h.selects[0]!.answer.reject(new LockTimeoutError("the pool is busy"));
    await expect(h.session.done).rejects.toThrow(/the pool is busy/);
    expect(h.codex.launches).toHaveLength(0);
  });

  it("every account out: stops codex, counts down on the clock, and resumes with the continuation", async () => {
    const h = harness();
    await runningOnA(h);
    await limitOnA(h);
    const now = h.clock.now();
    const exhaustion: Exhaustion = {
      resets: [{ account: A, resetsAt: now + 90_000 }],
      earliest: now + 90_000,
    };
    h.selects[1]!.answer.resolve({ kind: "exhausted", exhaustion });
    await h.until("the stop", () => h.log.includes("stop"));
    h.codex.exit(143);
    await h.until("the countdown", () => h.countdowns.length > 0);
    expect(h.countdowns[0]).toBe(90_000);
    // The wait is on the virtual clock: nothing is selected before the reset.
    await h.clock.advance(89_000);
    expect(h.selects).toHaveLength(2);
    expect(h.countdowns.at(-1)).toBe(1_000);
    await h.clock.advance(1_000);
    await h.until("the selection after the wait", () => h.selects.length === 3);
    expect(h.selects[2]!.request.purpose).toBe("after-wait");
    h.selects[2]!.answer.resolve({ kind: "selected", account: A });
    await h.until("the relaunch", () => h.codex.launches.length === 2);
    expect(h.log.at(-1)).toBe("start alice@example.com (resume+continue)");
    h.codex.last.up();
    h.codex.exit(0);
    expect((await h.session.done).code).toBe(0);
  });

  it("Ctrl+C during the wait leaves with 130 and stops the countdown", async () => {
    const h = harness();
    await h.until("the first selection", () => h.selects.length === 1);
    const exhaustion: Exhaustion = { resets: [], earliest: h.clock.now() + 60_000 };
    h.selects[0]!.answer.resolve({ kind: "exhausted", exhaustion });
    await h.until("the countdown", () => h.countdowns.length > 0);
    expect(h.session.childRunning()).toBe(false);
    h.session.signal("SIGINT");
    const result = await h.session.done;
    expect(result.code).toBe(130);
    expect(h.codex.launches).toHaveLength(0);
  });
});
