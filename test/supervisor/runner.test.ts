/**
 * The session runner (src/supervisor/run-session.ts) with fake ports, in virtual time: no process,
 * no file, no wall clock. A fake switching port stands in for codex (the test decides when it runs,
 * what it reports and when it exits), so the runner's error paths are driven step by step: the
 * child exiting during a stop, a launch failing while a signal is pending, supervision failing
 * while codex keeps running, tokens that could not be taken back, a continuation not taken, a
 * pool-exhausted wait counted down on the virtual clock (and ended early by another machine's
 * change), and a lease lost while silent — with a real live-session record on a real pool file.
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
import { poolPaths } from "../../src/platform/paths.js";
import { FilePoolStore } from "../../src/pool/file-store.js";
import type { Pool } from "../../src/pool/schema.js";
import type { TransactContext, TransactOptions } from "../../src/pool/store.js";
import {
  HEARTBEAT_MS,
  LEASE_TTL_MS,
  LiveSessionRecord,
} from "../../src/supervisor/live-sessions.js";
import { tempDir } from "../helpers/tmp.js";
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
  /** Tells the runner our lease on `account` lapsed and `by` runs it now (the record would). */
  leaseLost(account: string, by: string): void;
  /** Another machine's change made an account usable: the pending `usableAgain` settles. */
  poolChanged(): void;
  /** Runs the runner until `what` holds (virtual time moves only for the runner's own timers). */
  until(what: string, done: () => boolean): Promise<void>;
}

interface HarnessOptions {
  config?: MachineConfig;
  sessionId?: string | null;
  /** Real parts in place of the fakes (e.g. a live-session record on a real pool file). */
  ports?: (clock: VirtualClock) => Partial<SessionPorts>;
}

function harness(options: HarnessOptions = {}): Harness {
  const { config = tui, sessionId = null } = options;
  const clock = new VirtualClock();
  const log: string[] = [];
  const codex = new FakeCodex(log);
  const selects: Harness["selects"] = [];
  const countdowns: number[] = [];
  let leaseListener: ((lost: { account: string; by: string }) => void) | null = null;
  const wakes: Deferred<void>[] = [];
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
    onLeaseLost: (listener) => {
      leaseListener = listener;
    },
    usableAgain: (signal) => {
      const wake = deferred<void>();
      wakes.push(wake);
      signal.addEventListener("abort", () => wake.reject(new CancelledError("stopped")));
      return wake.promise;
    },
    ...options.ports?.(clock),
  };
  const session = startSession(ports, { config, sessionId });
  return {
    clock,
    codex,
    session,
    log,
    selects,
    countdowns,
    leaseLost: (account, by) => leaseListener?.({ account, by }),
    poolChanged: () => {
      for (const wake of wakes.splice(0)) wake.resolve();
    },
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

  it("writes no lease between a turn's end and the switch's claim (the claim records it)", async () => {
    const published: string[] = [];
    const h = harness({
      ports: () => ({
        publish: (entry) => {
          published.push(`${entry.account} ${entry.phase}`);
          return Promise.resolve();
        },
      }),
    });
    await runningOnA(h);
    const before = published.length;
    await limitOnA(h);
    // A write here would queue ahead of the claim's transaction, which the move waits on.
    expect(published.slice(before)).toEqual([]);
    h.selects[1]!.answer.resolve({ kind: "selected", account: B });
    await h.until("the move", () => h.codex.launches.length === 2);
    h.codex.last.up();
    await h.until("running on B", () => published.at(-1) === `${B.id} running`);
    expect(published.slice(before)).toEqual([
      `${B.id} switching`, // as the claim wrote it: not written again (LiveSessionRecord.set)
      `${B.id} running`,
    ]);
    h.codex.exit(0);
    await h.session.done;
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

  it("a lost lease mid-turn: the user is told, the turn runs to its end, then the session moves", async () => {
    const h = harness();
    await runningOnA(h);
    h.codex.emit({ type: "turnStarted" });
    h.leaseLost(A.id, "host-b (pid 4242)");
    await h.until("the user to be told", () => h.log.some((l) => l.includes("host-b")));
    expect(h.session.state().phase.kind).toBe("draining");
    expect(h.selects).toHaveLength(1); // nothing is chosen, nothing stopped, while the turn runs
    expect(h.codex.launches).toHaveLength(1);
    h.codex.emit({ type: "turnEnded", limitHit: false });
    await h.until("the switch's selection", () => h.selects.length === 2);
    expect(h.selects[1]!.request).toMatchObject({ exclude: [A.id], purpose: "switch" });
    h.selects[1]!.answer.resolve({ kind: "selected", account: B });
    await h.until("the move", () => h.codex.launches.length === 2);
    expect(h.log).toEqual([
      "start alice@example.com (own argv)",
      "line: alice@example.com is now used by host-b (pid 4242): this session's lease on it lapsed while it was silent; moving to another account at the next turn boundary",
      "line: moved from alice@example.com to bob@example.com (lease)",
      "move alice@example.com → bob@example.com",
    ]);
    h.codex.last.up();
    h.codex.exit(0);
    expect((await h.session.done).state.ctx.served).toEqual([A, B]);
  });

  it("a lost lease heard while a move is under way waits for it, then concerns the old account only", async () => {
    const h = harness();
    await runningOnA(h);
    await limitOnA(h);
    h.selects[1]!.answer.resolve({ kind: "selected", account: B });
    await h.until("the move", () => h.codex.launches.length === 2);
    h.leaseLost(A.id, "host-b (pid 4242)"); // about A, which the session is leaving
    h.codex.last.up();
    h.codex.emit({ type: "turnStarted" });
    await h.until("the session on B", () => h.session.state().ctx.turnActive);
    expect(h.log.filter((l) => l.includes("host-b"))).toEqual([]);
    expect(h.session.state().phase.kind).toBe("running");
    h.codex.exit(0);
    expect((await h.session.done).code).toBe(0);
  });

  it("every account out: another machine's change ends the countdown early and the selection looks again", async () => {
    const h = harness();
    await h.until("the first selection", () => h.selects.length === 1);
    const start = h.clock.now();
    const exhaustion: Exhaustion = {
      resets: [{ account: A, resetsAt: start + 3600_000 }],
      earliest: start + 3600_000,
    };
    h.selects[0]!.answer.resolve({ kind: "exhausted", exhaustion });
    await h.until("the countdown", () => h.countdowns.length > 0);
    await h.clock.advance(60_000);
    expect(h.selects).toHaveLength(1);
    h.poolChanged();
    await h.until("the selection after the wake", () => h.selects.length === 2);
    expect(h.selects[1]!.request.purpose).toBe("after-wait");
    expect(h.clock.now()).toBeLessThan(start + 120_000); // an hour early
    h.selects[1]!.answer.resolve({ kind: "selected", account: B });
    await h.until("the start", () => h.codex.launches.length === 1);
    expect(h.log.at(-1)).toBe("start bob@example.com (own argv)");
    h.codex.last.up();
    h.codex.exit(0);
    expect((await h.session.done).code).toBe(0);
  });
});

describe("the runner with our real lease on a real pool file, in virtual time", () => {
  const ME = { pid: 100, host: "machine-1" };
  const OTHER = { pid: 200, host: "host-b" };

  it("silent past the lease while another machine took A: the next renewal tells the session, which moves at its turn boundary", async () => {
    await using dir = await tempDir();
    const paths = poolPaths(dir.path);
    const store = new SilencedStore({ paths, lockWaitMs: 5000, lockStaleMs: 30_000 });
    let record: LiveSessionRecord | null = null;
    const told = deferred<void>();
    const h = harness({
      ports: (clock) => {
        const live = new LiveSessionRecord({ store, clock, me: ME, isAlive: () => true });
        record = live;
        return {
          publish: (entry) => live.set(entry),
          onLeaseLost: (listener) =>
            live.onLost((lost) => {
              listener({
                account: lost.account,
                by: lost.by.map((s) => `${s.host} (pid ${s.pid})`).join(", "),
              });
              told.resolve();
            }),
        };
      },
    });
    try {
      const leased = store.committed((pool) =>
        pool.sessions.some((x) => x.pid === ME.pid && x.account === A.id && x.phase === "running"),
      );
      await runningOnA(h);
      await leased;
      h.codex.emit({ type: "turnStarted" });
      // This machine goes silent (its renewals fail) for longer than the lease.
      store.silent = true;
      await h.clock.advance(LEASE_TTL_MS + HEARTBEAT_MS);
      // Meanwhile another machine chose A: its own write prunes our lapsed lease.
      const other = new LiveSessionRecord({
        store: new FilePoolStore({ paths, lockWaitMs: 5000, lockStaleMs: 30_000 }),
        clock: h.clock,
        me: OTHER,
        isAlive: () => true,
      });
      await other.set({ account: A.id, sessionId: "s-host-b", phase: "running" });
      expect(h.log.filter((l) => l.includes("host-b"))).toEqual([]);
      store.silent = false;
      // The next renewal (one heartbeat on; its write is real I/O, awaited as such).
      await h.clock.advance(HEARTBEAT_MS);
      await told.promise;
      await h.until("the session to be told", () =>
        h.log.some((l) => l.includes("is now used by host-b (pid 200)")),
      );
      // The turn in flight runs to its end: nothing chosen, nothing stopped.
      expect(h.session.state().phase.kind).toBe("draining");
      expect(h.selects).toHaveLength(1);
      h.codex.emit({ type: "turnEnded", limitHit: false });
      await h.until("the switch's selection", () => h.selects.length === 2);
      h.selects[1]!.answer.resolve({ kind: "selected", account: B });
      await h.until("the move", () => h.codex.launches.length === 2);
      expect(h.log.at(-1)).toBe("move alice@example.com → bob@example.com");
      h.codex.last.up();
      h.codex.exit(0);
      await h.session.done;
      await other.close();
    } finally {
      await (record as LiveSessionRecord | null)?.close();
    }
  });
});

/** The real pool file, whose writes fail while `silent` (a stopped or cut-off machine). */
class SilencedStore extends FilePoolStore {
  silent = false;
  private waiters: { test: (pool: Pool) => boolean; resolve: () => void }[] = [];

  /** Settles after the first commit that leaves the pool as `test` wants it. */
  committed(test: (pool: Pool) => boolean): Promise<void> {
    return new Promise((resolve) => this.waiters.push({ test, resolve }));
  }

  override async transact<T>(
    fn: (pool: Pool, tx: TransactContext) => T | Promise<T>,
    options?: TransactOptions<T>,
  ): Promise<T> {
    if (this.silent) throw new Error("this machine is silent");
    const result = await super.transact(fn, options);
    const pool = await this.read();
    for (const w of this.waiters.filter((x) => x.test(pool))) {
      this.waiters.splice(this.waiters.indexOf(w), 1);
      w.resolve();
    }
    return result;
  }
}
