import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  initialState,
  isChildRunning,
  startEffects,
  transition,
  type AccountRef,
  type Effect,
  type Event,
  type MachineConfig,
  type State,
} from "../../src/supervisor/machine.js";

const A: AccountRef = { id: "acc_aaaaaa", label: "alice@example.com" };
const B: AccountRef = { id: "acc_bbbbbb", label: "bob@example.com" };
const C: AccountRef = { id: "acc_cccccc", label: "carol@example.com" };
const SID = "0193aaaa-bbbb-7ccc-8ddd-eeeeeeeeeeee";

const tui: MachineConfig = {
  mode: "tui",
  maxSwitches: 5,
  continueAfterLimit: true,
  canWait: true,
  maxWaitMs: 60 * 60_000,
};
const exec: MachineConfig = { ...tui, mode: "exec", canWait: false };

interface Trace {
  state: State;
  effects: Effect[];
  /** Effects of the last event only. */
  last: readonly Effect[];
}

function drive(config: MachineConfig, events: Event[], start: State = initialState()): Trace {
  let state = start;
  const effects: Effect[] = [];
  let last: readonly Effect[] = [];
  for (const event of events) {
    const step = transition(config, state, event);
    state = step.state;
    last = step.effects;
    effects.push(...step.effects);
  }
  return { state, effects, last };
}

const ofType = <T extends Effect["type"]>(effects: readonly Effect[], type: T) =>
  effects.filter((e): e is Extract<Effect, { type: T }> => e.type === type);

/** A TUI session on A, bound, idle after its first launch. */
const boundOnA: Event[] = [
  { type: "selected", account: A },
  { type: "launched" },
  { type: "bound", sessionId: SID },
];

describe("start", () => {
  it("begins by choosing an account, and launches the user's own argv on it", () => {
    expect(startEffects()).toEqual([
      { type: "select", exclude: [], preferred: null, purpose: "start" },
    ]);
    const t = drive(tui, [{ type: "selected", account: A }]);
    expect(t.state.phase.kind).toBe("launching");
    expect(t.last).toEqual([{ type: "start", account: A, sessionId: null, resume: null }]);
    expect(t.state.ctx.switches).toBe(0);
    expect(t.state.ctx.served).toEqual([A]);
  });

  it("a resume of a known session is bound at once and launched with the user's own argv", () => {
    const t = drive(
      tui,
      [{ type: "selected", account: A }, { type: "launched" }],
      initialState(SID),
    );
    expect(t.state.phase.kind).toBe("running");
    expect(t.state.ctx.sessionId).toBe(SID);
    // The user's `resume <id> "prompt"` keeps its prompt: no rebuilt resume argv on the first launch.
    expect(ofType(t.effects, "start")[0]).toMatchObject({ sessionId: SID, resume: null });
  });

  it("an unbound child becomes running when the rollout is found", () => {
    const t = drive(tui, boundOnA);
    expect(t.state.phase.kind).toBe("running");
    expect(t.state.ctx.sessionId).toBe(SID);
  });

  it("a launch failure ends with 1 and says why", () => {
    const t = drive(tui, [
      { type: "selected", account: A },
      { type: "launchFailed", message: "codex not found" },
    ]);
    expect(t.state.phase).toMatchObject({ kind: "done", code: 1, reason: "launch-failed" });
    expect(ofType(t.last, "notice")[0]?.message).toBe("codex not found");
  });
});

describe("TUI: limit hit", () => {
  it("a turn failing on the usage limit switches at once and resumes with the continuation", () => {
    const t = drive(tui, [
      ...boundOnA,
      { type: "turnStarted" },
      { type: "pressure", account: A.id, level: "floor" },
      { type: "turnEnded", limitHit: true },
    ]);
    expect(t.state.phase).toEqual({ kind: "switching", cause: "limit" });
    expect(ofType(t.last, "select")[0]).toMatchObject({ exclude: [A.id], purpose: "switch" });
    // The session does not move before B is known.
    expect(ofType(t.effects, "move")).toHaveLength(0);
    expect(ofType(t.effects, "stop")).toHaveLength(0);

    const r = drive(tui, [{ type: "selected", account: B }], t.state);
    expect(r.state.phase).toEqual({ kind: "launching", pendingExit: null });
    // The switch line's place comes first: it is out before codex runs on B.
    expect(r.last).toEqual([
      { type: "announceSwitch", sessionId: SID, from: A, to: B, cause: "limit" },
      { type: "move", from: A, to: B, sessionId: SID, continuation: true, resend: false },
    ]);
    expect(r.state.ctx).toMatchObject({
      switches: 1,
      account: B,
      served: [A, B],
      continuation: { account: B.id, attempt: 1 },
    });

    const up = drive(tui, [{ type: "launched" }], r.state);
    expect(up.state.phase.kind).toBe("running"); // the session id is known: no binding again
    const taken = drive(tui, [{ type: "turnStarted" }], up.state);
    expect(taken.state.ctx.continuation).toBeNull();
  });

  it("without continueAfterLimit the relaunch submits nothing", () => {
    const t = drive({ ...tui, continueAfterLimit: false }, [
      ...boundOnA,
      { type: "turnStarted" },
      { type: "turnEnded", limitHit: true },
      { type: "selected", account: B },
    ]);
    expect(ofType(t.last, "move")[0]?.continuation).toBe(false);
    expect(t.state.ctx.continuation).toBeNull();
  });
});

describe("TUI: preemptive switch at the turn boundary", () => {
  it("never cuts a turn: at the floor mid-turn it drains, then switches when the turn ends", () => {
    const mid = drive(tui, [
      ...boundOnA,
      { type: "turnStarted" },
      { type: "pressure", account: A.id, level: "floor" },
    ]);
    expect(mid.state.phase).toEqual({ kind: "draining", cause: "floor" });
    expect(ofType(mid.effects, "move")).toHaveLength(0);
    expect(ofType(mid.effects, "select")).toHaveLength(0);
    expect(ofType(mid.effects, "prewarm")).toHaveLength(1); // floor implies near: prewarm

    const end = drive(
      tui,
      [
        { type: "prewarmed", forAccount: A.id, next: B },
        { type: "turnEnded", limitHit: false },
        { type: "selected", account: B },
      ],
      mid.state,
    );
    expect(ofType(end.effects, "select")[0]).toMatchObject({ preferred: B, exclude: [A.id] });
    expect(ofType(end.effects, "move")[0]).toEqual({
      type: "move",
      from: A,
      to: B,
      sessionId: SID,
      continuation: false,
      resend: false,
    });
    expect(ofType(end.effects, "announceSwitch")[0]?.cause).toBe("floor");
  });

  it("at the floor while idle it switches right away", () => {
    const t = drive(tui, [...boundOnA, { type: "pressure", account: A.id, level: "floor" }]);
    expect(t.state.phase).toEqual({ kind: "switching", cause: "floor" });
  });

  it("a turn started while choosing is let finish before the child is stopped", () => {
    const t = drive(tui, [
      ...boundOnA,
      { type: "pressure", account: A.id, level: "floor" },
      { type: "turnStarted" },
      { type: "selected", account: B },
    ]);
    expect(t.state.phase).toEqual({ kind: "draining", cause: "floor" });
    expect(ofType(t.effects, "move")).toHaveLength(0);
    const end = drive(tui, [{ type: "turnEnded", limitHit: false }], t.state);
    expect(ofType(end.last, "select")[0]?.preferred).toEqual(B);
  });

  it("near the floor only prewarms, once per launch", () => {
    const t = drive(tui, [
      ...boundOnA,
      { type: "pressure", account: A.id, level: "near" },
      { type: "pressure", account: A.id, level: "near" },
    ]);
    expect(t.state.phase.kind).toBe("running");
    expect(ofType(t.effects, "prewarm")).toEqual([{ type: "prewarm", exclude: [A.id] }]);
  });

  it("stays on the account when no other is usable, until the limit really hits", () => {
    const t = drive(tui, [
      ...boundOnA,
      { type: "pressure", account: A.id, level: "floor" },
      { type: "exhausted", exhaustion: { resets: [], earliest: 5_000 }, now: 1_000 },
      { type: "pressure", account: A.id, level: "floor" },
    ]);
    expect(t.state.phase.kind).toBe("running");
    expect(t.state.ctx.hold).toBe(true);
    expect(ofType(t.effects, "select")).toHaveLength(1);
    expect(ofType(t.effects, "move")).toHaveLength(0);
    const hit = drive(
      tui,
      [{ type: "turnStarted" }, { type: "turnEnded", limitHit: true }],
      t.state,
    );
    expect(hit.state.phase).toEqual({ kind: "switching", cause: "limit" });
  });

  it("ignores quota news about an account it no longer runs", () => {
    const t = drive(tui, [...boundOnA, { type: "pressure", account: C.id, level: "floor" }]);
    expect(t.state.phase.kind).toBe("running");
    expect(t.effects.filter((e) => e.type !== "start")).toEqual([]);
  });

  it("drains even when the floor arrives before the session is bound", () => {
    const t = drive(tui, [
      { type: "selected", account: A },
      { type: "launched" },
      { type: "pressure", account: A.id, level: "floor" },
      { type: "bound", sessionId: SID },
    ]);
    expect(t.state.phase).toEqual({ kind: "switching", cause: "floor" });
  });
});

describe("a lost lease (another machine runs the account now)", () => {
  const lost = (account: AccountRef = A): Event => ({
    type: "leaseLost",
    account: account.id,
    by: "host-b (pid 4242)",
  });

  it("mid-turn: says so, drains, and moves when the turn ends, without a continuation", () => {
    const mid = drive(tui, [...boundOnA, { type: "turnStarted" }, lost()]);
    expect(mid.state.phase).toEqual({ kind: "draining", cause: "lease" });
    expect(ofType(mid.last, "notice")[0]?.message).toBe(
      "alice@example.com is now used by host-b (pid 4242): this session's lease on it lapsed while it was silent; moving to another account at the next turn boundary",
    );
    expect(ofType(mid.effects, "select")).toHaveLength(0);
    expect(ofType(mid.effects, "move")).toHaveLength(0);
    const end = drive(
      tui,
      [
        { type: "turnEnded", limitHit: false },
        { type: "selected", account: B },
      ],
      mid.state,
    );
    expect(ofType(end.effects, "select")[0]).toMatchObject({ exclude: [A.id], purpose: "switch" });
    expect(ofType(end.effects, "announceSwitch")[0]?.cause).toBe("lease");
    expect(ofType(end.effects, "move")[0]).toMatchObject({ from: A, to: B, continuation: false });
    expect(end.state.ctx).toMatchObject({ account: B, takenBy: null, switches: 1 });
  });

  it("idle: moves at once; told once however often it hears it", () => {
    const t = drive(tui, [...boundOnA, lost(), lost()]);
    expect(t.state.phase).toEqual({ kind: "switching", cause: "lease" });
    expect(ofType(t.effects, "notice")).toHaveLength(1);
    expect(ofType(t.effects, "select")).toHaveLength(1);
  });

  it("a turn that ends on the limit meanwhile moves for the limit, with the continuation", () => {
    const t = drive(tui, [
      ...boundOnA,
      { type: "turnStarted" },
      lost(),
      { type: "turnEnded", limitHit: true },
      { type: "selected", account: B },
    ]);
    expect(ofType(t.effects, "move")[0]).toMatchObject({ to: B, continuation: true });
  });

  it("no other account usable: stays on it (shared), and says so", () => {
    const t = drive(tui, [
      ...boundOnA,
      lost(),
      { type: "exhausted", exhaustion: { resets: [], earliest: 5_000 }, now: 1_000 },
    ]);
    expect(t.state.phase.kind).toBe("running");
    expect(t.state.ctx.hold).toBe(true);
    expect(ofType(t.last, "notice")[0]?.message).toBe(
      "alice@example.com is also used by host-b (pid 4242) but no other account is usable; staying on it",
    );
    expect(ofType(t.effects, "stop")).toHaveLength(0);
  });

  it("learned before the session is bound: moves once it is", () => {
    const t = drive(tui, [
      { type: "selected", account: A },
      { type: "launched" },
      lost(),
      { type: "bound", sessionId: SID },
    ]);
    expect(t.state.phase).toEqual({ kind: "switching", cause: "lease" });
  });

  it("about an account it no longer runs, or while waiting: ignored", () => {
    const t = drive(tui, [...boundOnA, lost(C)]);
    expect(t.state.phase.kind).toBe("running");
    expect(t.effects.filter((e) => e.type !== "start")).toEqual([]);
    const waiting = drive(tui, [
      { type: "exhausted", exhaustion: { resets: [], earliest: 5_000 }, now: 1_000 },
      lost(),
    ]);
    expect(waiting.state.phase.kind).toBe("waiting");
    expect(waiting.last).toEqual([]);
  });

  it("exec: says so and the run stays on it until it ends", () => {
    const t = drive(exec, [...boundOnA, { type: "turnStarted" }, lost()]);
    expect(t.state.phase.kind).toBe("running");
    expect(ofType(t.last, "notice")[0]?.message).toMatch(/this run stays on it until it ends$/);
    expect(ofType(t.effects, "select")).toHaveLength(0);
  });

  it("with the switch budget spent: stays, and says why", () => {
    const t = drive({ ...tui, maxSwitches: 0 }, [...boundOnA, lost()]);
    expect(t.state.phase.kind).toBe("running");
    expect(ofType(t.effects, "notice").map((n) => n.message)).toEqual([
      "alice@example.com is now used by host-b (pid 4242): this session's lease on it lapsed while it was silent; staying on it",
      "reached the limit of 0 switches for this session; staying on alice@example.com",
    ]);
  });
});

describe("exec", () => {
  const execOnA: Event[] = [
    { type: "selected", account: A },
    { type: "launched" },
    { type: "bound", sessionId: SID },
    { type: "turnStarted" },
  ];

  it("a run ending on the usage limit is resumed under the next account with the continuation", () => {
    const limited = drive(exec, [...execOnA, { type: "turnEnded", limitHit: true }]);
    // The next account is chosen while codex exits by itself.
    expect(limited.state.phase).toEqual({ kind: "handoff", choice: null });
    expect(limited.last).toEqual([
      { type: "select", exclude: [A.id], preferred: null, purpose: "switch" },
    ]);
    const t = drive(exec, [{ type: "childExited", code: 1 }], limited.state);
    expect(t.state.phase).toEqual({ kind: "choosing", switchCause: "limit" });
    expect(t.last).toEqual([
      { type: "attribute", account: A, previous: null, cause: null, code: 1 },
    ]);
    const r = drive(
      exec,
      [{ type: "selected", account: B }, { type: "launched" }, { type: "turnStarted" }],
      t.state,
    );
    expect(ofType(r.effects, "start")[0]).toEqual({
      type: "start",
      account: B,
      sessionId: SID,
      resume: { sessionId: SID, continuation: true },
    });
    const end = drive(
      exec,
      [
        { type: "turnEnded", limitHit: false },
        { type: "childExited", code: 0 },
      ],
      r.state,
    );
    expect(end.state.phase).toMatchObject({ kind: "done", code: 0, reason: "child-exited" });
    expect(ofType(end.last, "attribute")[0]).toEqual({
      type: "attribute",
      account: B,
      previous: A,
      cause: "limit",
      code: 0,
    });
  });

  it("a choice made before the limited child is gone waits for its exit", () => {
    const t = drive(exec, [
      ...execOnA,
      { type: "turnEnded", limitHit: true },
      { type: "selected", account: B },
    ]);
    expect(t.state.phase).toEqual({ kind: "handoff", choice: { kind: "selected", account: B } });
    expect(t.last).toEqual([]);
    const r = drive(exec, [{ type: "childExited", code: 1 }], t.state);
    // A's run is attributed, the switch line takes its place, and B starts.
    expect(r.last).toEqual([
      { type: "attribute", account: A, previous: null, cause: null, code: 1 },
      { type: "announceSwitch", sessionId: SID, from: A, to: B, cause: "limit" },
      {
        type: "start",
        account: B,
        sessionId: SID,
        resume: { sessionId: SID, continuation: true },
      },
    ]);
    expect(r.state.phase).toEqual({ kind: "launching", pendingExit: null });
    expect(r.state.ctx).toMatchObject({ account: B, previous: A, switches: 1, lastCause: "limit" });
  });

  it("a pool found exhausted before the limited child is gone ends the run at its exit", () => {
    const exhaustion = { resets: [{ account: B, resetsAt: 9_000 }], earliest: 9_000 };
    const t = drive(exec, [
      ...execOnA,
      { type: "turnEnded", limitHit: true },
      { type: "exhausted", exhaustion, now: 1_000 },
    ]);
    expect(t.state.phase.kind).toBe("handoff");
    expect(t.last).toEqual([]);
    const r = drive(exec, [{ type: "childExited", code: 1 }], t.state);
    expect(r.state.phase).toEqual({ kind: "done", code: 75, reason: "exhausted", exhaustion });
    expect(ofType(r.last, "start")).toEqual([]);
  });

  it("a signal during the handoff stops the child and launches nothing", () => {
    const t = drive(exec, [
      ...execOnA,
      { type: "turnEnded", limitHit: true },
      { type: "signal", signal: "SIGTERM" },
      { type: "selected", account: B },
      { type: "childExited", code: 143 },
    ]);
    expect(t.state.phase).toMatchObject({ kind: "done", code: 143, reason: "signal" });
    expect(ofType(t.effects, "stop")).toHaveLength(1);
    expect(ofType(t.effects, "start")).toHaveLength(1); // A's own
  });

  it("codex going on after the limit is judged on its last turn when it exits", () => {
    const t = drive(exec, [
      ...execOnA,
      { type: "turnEnded", limitHit: true },
      { type: "selected", account: B },
      { type: "turnStarted" },
      { type: "turnEnded", limitHit: false },
      { type: "childExited", code: 0 },
    ]);
    expect(t.state.phase).toMatchObject({ kind: "done", code: 0, reason: "child-exited" });
    expect(ofType(t.last, "start")).toHaveLength(0);
  });

  it("never stops a running exec for the floor", () => {
    const t = drive(exec, [...execOnA, { type: "pressure", account: A.id, level: "floor" }]);
    expect(t.state.phase.kind).toBe("running");
    expect(ofType(t.effects, "stop")).toHaveLength(0);
  });

  it("a run failing for another reason keeps its exit code", () => {
    const t = drive(exec, [
      ...execOnA,
      { type: "turnEnded", limitHit: false },
      { type: "childExited", code: 1 },
    ]);
    expect(t.state.phase).toMatchObject({ kind: "done", code: 1, reason: "child-exited" });
  });

  it("exhausted without a terminal exits 75 naming the reset", () => {
    const exhaustion = { resets: [{ account: B, resetsAt: 9_000 }], earliest: 9_000 };
    const t = drive(exec, [
      ...execOnA,
      { type: "turnEnded", limitHit: true },
      { type: "childExited", code: 1 },
      { type: "exhausted", exhaustion, now: 1_000 },
    ]);
    expect(t.state.phase).toEqual({ kind: "done", code: 75, reason: "exhausted", exhaustion });
  });

  it("with continueAfterLimit off the run is not resumed", () => {
    const t = drive({ ...exec, continueAfterLimit: false }, [
      ...execOnA,
      { type: "turnEnded", limitHit: true },
      { type: "childExited", code: 1 },
    ]);
    expect(t.state.phase).toMatchObject({ kind: "done", code: 1 });
  });
});

describe("pool exhausted", () => {
  const exhaustion = {
    resets: [
      { account: A, resetsAt: 61_000 },
      { account: B, resetsAt: 3_601_000 },
    ],
    earliest: 61_000,
  };

  it("at the start: waits for the earliest reset, re-checks and launches", () => {
    const t = drive(tui, [{ type: "exhausted", exhaustion, now: 1_000 }]);
    expect(t.state.phase).toEqual({ kind: "waiting", until: 61_000, switchCause: null });
    expect(t.last).toEqual([{ type: "wait", until: 61_000, exhaustion }]);
    const r = drive(tui, [{ type: "waitOver" }, { type: "selected", account: A }], t.state);
    expect(ofType(r.effects, "select")[0]?.purpose).toBe("after-wait");
    expect(ofType(r.effects, "start")[0]).toEqual({
      type: "start",
      account: A,
      sessionId: null,
      resume: null,
    });
  });

  it("after a limit hit in the TUI: stops the child, waits, resumes with the continuation", () => {
    const t = drive(tui, [
      ...boundOnA,
      { type: "turnStarted" },
      { type: "turnEnded", limitHit: true },
      { type: "exhausted", exhaustion, now: 1_000 },
    ]);
    expect(t.state.phase).toMatchObject({ kind: "stopping", then: { kind: "wait" } });
    expect(t.last).toEqual([{ type: "stop" }]);
    const w = drive(tui, [{ type: "childExited", code: 143 }], t.state);
    expect(w.state.phase.kind).toBe("waiting");
    expect(w.last).toEqual([{ type: "wait", until: 61_000, exhaustion }]);
    const r = drive(tui, [{ type: "waitOver" }, { type: "selected", account: A }], w.state);
    // Same account after its reset: no "moved" line, but the continuation is submitted.
    expect(ofType(r.effects, "announceSwitch")).toHaveLength(0);
    expect(ofType(r.effects, "start")[0]?.resume).toEqual({ sessionId: SID, continuation: true });
    expect(r.state.ctx.served).toEqual([A]);
  });

  it("--no-wait (or no terminal) exits 75, after stopping a TUI child", () => {
    const noWait = { ...tui, canWait: false };
    const t = drive(noWait, [
      ...boundOnA,
      { type: "turnStarted" },
      { type: "turnEnded", limitHit: true },
      { type: "exhausted", exhaustion, now: 1_000 },
      { type: "childExited", code: 143 },
    ]);
    expect(t.state.phase).toEqual({ kind: "done", code: 75, reason: "exhausted", exhaustion });
  });

  it("does not wait past maxWait, counting from the first wait", () => {
    const t = drive({ ...tui, maxWaitMs: 30_000 }, [{ type: "exhausted", exhaustion, now: 1_000 }]);
    expect(t.state.phase).toMatchObject({ kind: "done", code: 75, reason: "wait-too-long" });
    const again = drive({ ...tui, maxWaitMs: 100_000 }, [
      { type: "exhausted", exhaustion, now: 1_000 },
      { type: "waitOver" },
      { type: "exhausted", exhaustion: { ...exhaustion, earliest: 121_000 }, now: 61_000 },
    ]);
    expect(again.state.phase).toMatchObject({ kind: "done", reason: "wait-too-long" });
  });

  it("an unknown reset time cannot be waited for", () => {
    const t = drive(tui, [
      { type: "exhausted", exhaustion: { resets: [], earliest: null }, now: 0 },
    ]);
    expect(t.state.phase).toMatchObject({ kind: "done", code: 75 });
  });

  it("Ctrl+C while waiting leaves cleanly with 130", () => {
    const t = drive(tui, [
      { type: "exhausted", exhaustion, now: 1_000 },
      { type: "signal", signal: "SIGINT" },
    ]);
    expect(t.state.phase).toMatchObject({ kind: "done", code: 130, reason: "signal" });
    expect(t.last).toEqual([{ type: "cancel" }]);
  });
});

describe("max switches", () => {
  it("the first launch is not a switch: a budget of 0 still launches", () => {
    const t = drive({ ...tui, maxSwitches: 0 }, [{ type: "selected", account: A }]);
    expect(ofType(t.effects, "start")).toHaveLength(1);
  });

  it("a spent budget keeps the TUI on its account and says so", () => {
    const cfg = { ...tui, maxSwitches: 1 };
    const t = drive(cfg, [
      ...boundOnA,
      { type: "turnStarted" },
      { type: "turnEnded", limitHit: true },
      { type: "selected", account: B },
      { type: "launched" },
      { type: "turnStarted" },
      { type: "turnEnded", limitHit: true },
    ]);
    expect(t.state.ctx.switches).toBe(1);
    expect(t.state.phase.kind).toBe("running");
    expect(ofType(t.last, "notice")[0]?.message).toMatch(/limit of 1 switches/);
    expect(ofType(t.effects, "start")).toHaveLength(1);
    expect(ofType(t.effects, "move")).toHaveLength(1);
    // The preemptive path is held too.
    const p = drive(cfg, [{ type: "pressure", account: B.id, level: "floor" }], t.state);
    expect(ofType(p.effects, "select")).toHaveLength(0);
  });

  it("a spent budget ends an exec run with its own code", () => {
    const t = drive({ ...exec, maxSwitches: 0 }, [
      { type: "selected", account: A },
      { type: "launched" },
      { type: "bound", sessionId: SID },
      { type: "turnStarted" },
      { type: "turnEnded", limitHit: true },
      { type: "childExited", code: 1 },
    ]);
    expect(t.state.phase).toMatchObject({ kind: "done", code: 1, reason: "max-switches" });
  });
});

describe("signals and exits", () => {
  it("the child exiting by itself ends the session with its code", () => {
    const t = drive(tui, [...boundOnA, { type: "childExited", code: 7 }]);
    expect(t.state.phase).toMatchObject({ kind: "done", code: 7, reason: "child-exited" });
    expect(t.last).toEqual([]);
  });

  it("the user quitting while draining is not turned into a switch", () => {
    const t = drive(tui, [
      ...boundOnA,
      { type: "turnStarted" },
      { type: "pressure", account: A.id, level: "floor" },
      { type: "childExited", code: 0 },
    ]);
    expect(t.state.phase).toMatchObject({ kind: "done", code: 0 });
    expect(ofType(t.effects, "start")).toHaveLength(1);
    expect(ofType(t.effects, "move")).toHaveLength(0);
  });

  it.each([
    ["SIGTERM", 143],
    ["SIGHUP", 129],
  ] as const)("%s stops the child and ends with %i", (signal, code) => {
    const t = drive(tui, [...boundOnA, { type: "turnStarted" }, { type: "signal", signal }]);
    expect(t.state.phase.kind).toBe("stopping");
    expect(t.last).toEqual([{ type: "stop" }]);
    const d = drive(tui, [{ type: "childExited", code: 143 }], t.state);
    expect(d.state.phase).toMatchObject({ kind: "done", code, reason: "signal" });
  });

  it("a signal during a move gives it up: nothing more is started, the signal's code", () => {
    const t = drive(tui, [
      ...boundOnA,
      { type: "pressure", account: A.id, level: "floor" },
      { type: "selected", account: B },
      { type: "signal", signal: "SIGTERM" },
    ]);
    expect(t.last).toEqual([{ type: "abortLaunch" }]);
    const given = drive(
      tui,
      [{ type: "launchFailed", message: "stopped before codex started", cancelled: true }],
      t.state,
    );
    expect(given.state.phase).toMatchObject({ kind: "done", code: 143, reason: "signal" });
    expect(given.last).toEqual([]); // nothing to tell: the user asked
    // Codex was already up on B: it is stopped at once.
    const up = drive(tui, [{ type: "launched" }], t.state);
    expect(up.state.phase).toMatchObject({ kind: "stopping", then: { kind: "exit", code: 143 } });
    expect(up.last).toEqual([{ type: "stop" }]);
  });

  it("a signal during a launch stops the child as soon as it is up", () => {
    const t = drive(tui, [
      { type: "selected", account: A },
      { type: "signal", signal: "SIGHUP" },
      { type: "launched" },
    ]);
    expect(t.state.phase).toMatchObject({ kind: "stopping", then: { kind: "exit", code: 129 } });
    expect(t.last).toEqual([{ type: "stop" }]);
  });

  it("a launch that fails while a signal is pending ends with the signal's code and says why", () => {
    const t = drive(tui, [
      { type: "selected", account: A },
      { type: "signal", signal: "SIGTERM" },
      { type: "launchFailed", message: "cannot start codex at /x: it does not exist" },
    ]);
    expect(t.state.phase).toMatchObject({ kind: "done", code: 143, reason: "signal" });
    expect(ofType(t.last, "notice")[0]?.message).toMatch(/cannot start codex/);
  });

  it("a signal while choosing ends at once and cancels the selection", () => {
    const t = drive(tui, [{ type: "signal", signal: "SIGTERM" }]);
    expect(t.state.phase).toMatchObject({ kind: "done", code: 143 });
    expect(t.last).toEqual([{ type: "cancel" }]);
  });
});

describe("verified continuation", () => {
  /** The TUI session moved to B after A's limit; codex runs on B with the continuation sent. */
  const movedToB: Event[] = [
    ...boundOnA,
    { type: "turnStarted" },
    { type: "turnEnded", limitHit: true },
    { type: "selected", account: B },
    { type: "launched" },
  ];

  it("not taken in time: sent once more on the same account, with no switch and no line", () => {
    const t = drive(tui, [...movedToB, { type: "continuationMissed" }]);
    expect(t.last).toEqual([
      { type: "move", from: B, to: B, sessionId: SID, continuation: true, resend: true },
    ]);
    expect(t.state.phase).toEqual({ kind: "launching", pendingExit: null });
    expect(t.state.ctx).toMatchObject({
      account: B,
      switches: 1,
      served: [A, B],
      continuation: { account: B.id, attempt: 2 },
    });
    const taken = drive(tui, [{ type: "launched" }, { type: "turnStarted" }], t.state);
    expect(taken.state.ctx.continuation).toBeNull();
    expect(taken.state.phase.kind).toBe("running");
  });

  it("not taken twice: the user is told, in one line, that the task waits on B", () => {
    const t = drive(tui, [
      ...movedToB,
      { type: "continuationMissed" },
      { type: "launched" },
      { type: "continuationMissed" },
    ]);
    expect(t.last).toEqual([
      {
        type: "notice",
        message:
          'codex did not run the continuation prompt on bob@example.com: the interrupted task is waiting for you: type your next instruction (e.g. "continue") to go on',
      },
    ]);
    expect(t.state.phase.kind).toBe("running");
    expect(t.state.ctx.continuation).toBeNull();
    expect(ofType(t.effects, "move")).toHaveLength(2); // the switch, and one resend
  });

  it("codex ending before the continuation ran says so once", () => {
    const t = drive(tui, [...movedToB, { type: "childExited", code: 0 }]);
    expect(t.state.phase).toMatchObject({ kind: "done", code: 0 });
    expect(t.last).toEqual([
      {
        type: "notice",
        message: `codex did not run the continuation prompt on bob@example.com: the interrupted task is waiting for you (resume the session with \`codex-pool run resume ${SID}\`)`,
      },
    ]);
    const taken = drive(tui, [
      ...movedToB,
      { type: "turnStarted" },
      { type: "childExited", code: 0 },
    ]);
    expect(taken.last).toEqual([]);
  });

  it("a late report after the turn started changes nothing", () => {
    const t = drive(tui, [...movedToB, { type: "turnStarted" }, { type: "continuationMissed" }]);
    expect(t.last).toEqual([]);
    expect(t.state.ctx.turnActive).toBe(true);
  });

  it("a switch without a continuation expects nothing", () => {
    const t = drive(tui, [
      ...boundOnA,
      { type: "pressure", account: A.id, level: "floor" },
      { type: "selected", account: B },
      { type: "launched" },
      { type: "continuationMissed" },
    ]);
    expect(t.last).toEqual([]);
    expect(t.state.phase.kind).toBe("running");
  });

  it("after a wait, a relaunch on the same account carries and verifies the continuation", () => {
    const exhaustion = { resets: [{ account: A, resetsAt: 61_000 }], earliest: 61_000 };
    const t = drive(tui, [
      ...boundOnA,
      { type: "turnStarted" },
      { type: "turnEnded", limitHit: true },
      { type: "exhausted", exhaustion, now: 1_000 },
      { type: "childExited", code: 143 },
      { type: "waitOver" },
      { type: "selected", account: A },
      { type: "launched" },
      { type: "continuationMissed" },
    ]);
    expect(t.last).toEqual([
      { type: "move", from: A, to: A, sessionId: SID, continuation: true, resend: true },
    ]);
  });
});

describe("live mode: the port moved the session by itself", () => {
  it("follows it mid-turn: the account, the served list, one switch line; the budget is the machine's own", () => {
    const t = drive(tui, [
      ...boundOnA,
      { type: "turnStarted" },
      { type: "accountReplaced", account: B },
    ]);
    expect(t.state.phase.kind).toBe("running");
    expect(t.state.ctx).toMatchObject({
      account: B,
      previous: A,
      served: [A, B],
      switches: 0,
      lastCause: "signed-out",
      turnActive: true,
    });
    expect(t.last).toEqual([
      { type: "announceSwitch", sessionId: SID, from: A, to: B, cause: "signed-out" },
    ]);
    // No stop, no move: the same codex goes on.
    expect(t.effects.some((e) => e.type === "stop" || e.type === "move")).toBe(false);
  });

  it("changes nothing when it names the account already running", () => {
    const before = drive(tui, boundOnA).state;
    const t = drive(tui, [{ type: "accountReplaced", account: A }], before);
    expect(t.state).toEqual(before);
    expect(t.last).toEqual([]);
  });
});

describe("invariants (property-based)", () => {
  const accounts = [A, B, C];
  const arbEvent: fc.Arbitrary<Event> = fc.oneof(
    fc.constantFrom(...accounts).map((account): Event => ({ type: "selected", account })),
    fc.constant<Event>({
      type: "exhausted",
      exhaustion: { resets: [{ account: A, resetsAt: 5_000 }], earliest: 5_000 },
      now: 1_000,
    }),
    fc.constant<Event>({ type: "launched" }),
    fc.boolean().map((cancelled): Event => ({ type: "launchFailed", message: "x", cancelled })),
    fc.constant<Event>({ type: "bound", sessionId: SID }),
    fc.constant<Event>({ type: "turnStarted" }),
    fc.boolean().map((limitHit): Event => ({ type: "turnEnded", limitHit })),
    fc
      .tuple(
        fc.constantFrom(...accounts),
        fc.constantFrom<"ok" | "near" | "floor">("ok", "near", "floor"),
      )
      .map(([a, level]): Event => ({ type: "pressure", account: a.id, level })),
    fc
      .constantFrom(...accounts)
      .map((a): Event => ({ type: "prewarmed", forAccount: a.id, next: B })),
    fc.integer({ min: 0, max: 255 }).map((code): Event => ({ type: "childExited", code })),
    fc.constant<Event>({ type: "continuationMissed" }),
    fc.constantFrom(...accounts).map((account): Event => ({ type: "accountReplaced", account })),
    fc.constantFrom("SIGTERM", "SIGHUP").map((signal): Event => ({ type: "signal", signal })),
    fc.constant<Event>({ type: "waitOver" }),
    fc
      .constantFrom(...accounts)
      .map((a): Event => ({ type: "leaseLost", account: a.id, by: "host-b" })),
  );

  it("never stops or moves the session while a turn is in flight, unless a signal asked", () => {
    fc.assert(
      fc.property(
        fc.array(arbEvent, { maxLength: 60 }),
        fc.constantFrom(tui, exec),
        (events, cfg) => {
          let state = initialState();
          let signalled = false;
          for (const event of events) {
            if (event.type === "signal") signalled = true;
            const wasTurnActive = state.ctx.turnActive && isChildRunning(state.phase);
            const s = transition(cfg, state, event);
            const cuts = s.effects.some((e) => e.type === "stop" || e.type === "move");
            if (cuts && !signalled) {
              expect(wasTurnActive && event.type !== "turnEnded").toBe(false);
            }
            state = s.state;
          }
        },
      ),
    );
  });

  it("never starts codex beside a running one: with a child, only a move replaces it", () => {
    fc.assert(
      fc.property(
        fc.array(arbEvent, { maxLength: 60 }),
        fc.constantFrom(tui, exec),
        fc.boolean(),
        (events, cfg, fromBound) => {
          // Half the runs start bound and running, so switches are reached often.
          let state = fromBound ? drive(cfg, boundOnA).state : initialState();
          for (const event of events) {
            const s = transition(cfg, state, event);
            if (s.effects.some((e) => e.type === "start")) {
              // From a running child only its own exit leads to a start (exec's handoff).
              if (isChildRunning(state.phase)) expect(event.type).toBe("childExited");
              expect(state.phase.kind).not.toBe("launching");
            }
            if (s.effects.some((e) => e.type === "move")) {
              expect(isChildRunning(state.phase)).toBe(true);
              expect(cfg.mode).toBe("tui");
            }
            state = s.state;
          }
        },
      ),
      // A start beside a child needs a limit and a choice before the exit: look often.
      { numRuns: 1_000 },
    );
  });

  it("never exceeds the switch budget, and done is final", () => {
    fc.assert(
      fc.property(
        fc.array(arbEvent, { maxLength: 80 }),
        fc.integer({ min: 0, max: 3 }),
        fc.constantFrom(tui, exec),
        (events, maxSwitches, base) => {
          const cfg = { ...base, maxSwitches };
          let state = initialState();
          for (const event of events) {
            const s = transition(cfg, state, event);
            expect(s.state.ctx.switches).toBeLessThanOrEqual(maxSwitches);
            if (state.phase.kind === "done") {
              expect(s.state).toBe(state);
              expect(s.effects).toEqual([]);
            }
            state = s.state;
          }
        },
      ),
    );
  });

  it("a continuation is sent at most twice per switch", () => {
    fc.assert(
      fc.property(fc.array(arbEvent, { maxLength: 80 }), (events) => {
        let state = drive(tui, boundOnA).state;
        let retries = 0;
        for (const event of events) {
          const s = transition(tui, state, event);
          for (const e of s.effects) {
            if (e.type === "move" && !e.resend) retries = 0;
            if (e.type === "start") retries = 0;
            if (e.type === "move" && e.resend) retries += 1;
          }
          expect(retries).toBeLessThanOrEqual(1);
          state = s.state;
        }
      }),
    );
  });
});
