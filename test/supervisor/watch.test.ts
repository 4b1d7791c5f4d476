/**
 * The watcher on a real rollout file: a line codex appends wakes it at once (not at the next poll,
 * here a minute away), a usage limit is stored before the turn's end is reported, quota readings
 * waiting to settle are stored once, the latest, when the watch drains; a resumed launch reads
 * from the size taken before its spawn; a continuation's turn is expected within its bound
 * (virtual time).
 */
import fs from "node:fs/promises";
import { describe, expect, it } from "vitest";
import type { QuotaSnapshot } from "../../src/pool/schema.js";
import { systemClock, type Clock } from "../../src/platform/clock.js";
import { startWatch, type WatchDeps, type WatchEvent } from "../../src/supervisor/watch.js";
import { VirtualClock } from "../helpers/virtual-clock.js";
import { writeRollout } from "../helpers/rollouts.js";
import { tempDir } from "../helpers/tmp.js";

const line = (payload: object): string =>
  JSON.stringify({ timestamp: "t", type: "event_msg", payload }) + "\n";
const reading = (usedPercent: number): string =>
  line({
    type: "token_count",
    rate_limits: {
      primary: { used_percent: usedPercent, window_minutes: 300, resets_at: 1795486637 },
      secondary: null,
      plan_type: "plus",
    },
  });
const limit = line({
  type: "task_complete",
  turn_id: "t1",
  error: { message: "You’ve hit your usage limit.", codex_error_info: "usage_limit_exceeded" },
});

interface WatchingOptions {
  quotaSettleMs?: number;
  clock?: Clock;
  /** Lines of earlier launches, written before the size is taken. */
  history?: string[];
  /** Lines this launch wrote before its watcher started. */
  early?: string[];
  expectTurnWithinMs?: number | null;
}

async function watching(options: WatchingOptions = {}) {
  const clock = options.clock ?? systemClock;
  const dir = await tempDir();
  const { file, id } = await writeRollout(dir.join("sessions"), {
    timestamp: new Date(),
    cwd: dir.path,
    originator: "codex_exec",
  });
  for (const l of options.history ?? []) await fs.appendFile(file, l);
  const from = (await fs.stat(file)).size;
  for (const l of options.early ?? []) await fs.appendFile(file, l);
  const log: string[] = [];
  const observed: QuotaSnapshot[] = [];
  let onEvent: ((e: WatchEvent) => void) | null = null;
  const deps: WatchDeps = {
    clock,
    sessionsDir: dir.join("sessions"),
    cwd: dir.path,
    mode: "exec",
    bindTimeoutMs: 5_000,
    tailPollMs: 60_000, // only a change notification can wake the tail within a test
    quotaPollMs: 3_600_000,
    quotaSettleMs: options.quotaSettleMs ?? 60_000,
    knownFile: { current: file },
    observe: (account, snapshot) => {
      observed.push(snapshot);
      log.push(
        `observe ${snapshot.windows[0]?.usedPercent}${snapshot.limitReached ? " limit" : ""}`,
      );
      const level = snapshot.limitReached ? "floor" : "ok";
      return Promise.resolve({ type: "pressure", account, level } as const);
    },
    probe: () => Promise.resolve(null),
    onError: (error) => log.push(`error ${String(error)}`),
    otherSessions: () => Promise.resolve(new Set<string>()),
  };
  const watcher = startWatch(
    deps,
    {
      account: { id: "acc_a", label: "a" },
      sessionId: id,
      launchedAt: clock.now(),
      pid: null,
      from,
      expectTurnWithinMs: options.expectTurnWithinMs ?? null,
    },
    (event) => {
      log.push(event.type === "pressure" ? `pressure ${event.level}` : event.type);
      onEvent?.(event);
    },
  );
  const next = (type: WatchEvent["type"]): Promise<void> =>
    new Promise((resolve) => {
      onEvent = (e) => {
        if (e.type === type) resolve();
      };
    });
  return {
    file,
    log,
    observed,
    watcher,
    next,
    async [Symbol.asyncDispose]() {
      await watcher.stop();
      await dir[Symbol.asyncDispose]();
    },
  };
}

describe("startWatch", () => {
  it("sees a limit as soon as it is written, stores it, then reports the turn's end", async () => {
    await using w = await watching();
    // The turn's start is read at once (the tail's first read, from the start of the file).
    const started = w.next("turnStarted");
    await fs.appendFile(w.file, line({ type: "task_started", turn_id: "t1" }));
    await started;
    // From here only a change notification can wake the tail before its poll a minute away.
    const ended = w.next("turnEnded");
    await fs.appendFile(w.file, reading(97));
    await fs.appendFile(w.file, limit);
    await ended;
    // The reading before the limit waited to settle and was superseded: one store, the limit.
    expect(w.log).toEqual(["turnStarted", "observe 97 limit", "pressure floor", "turnEnded"]);
  });

  it("a reading still settling is stored, the latest only, when the watch drains", async () => {
    await using w = await watching();
    await fs.appendFile(w.file, reading(10));
    await fs.appendFile(w.file, reading(20));
    await w.watcher.drain();
    expect(w.observed.map((s) => s.windows[0]?.usedPercent)).toEqual([20]);
    expect(w.log).not.toContain(expect.stringMatching(/^error/));
  });

  it("a resumed launch reads from the size before its spawn: its early lines, not the history", async () => {
    const clock = new VirtualClock();
    await using w = await watching({
      clock,
      history: [line({ type: "task_started", turn_id: "t0" }), limit],
      early: [line({ type: "task_started", turn_id: "t1" })],
    });
    await w.next("turnStarted");
    await w.watcher.drain();
    // The earlier launch's limit is not seen again; the new turn, written before the watcher
    // started, is seen once.
    expect(w.log).toEqual(["turnStarted"]);
  });

  it("a continuation whose turn does not start within its bound is reported missed", async () => {
    const clock = new VirtualClock();
    await using w = await watching({ clock, expectTurnWithinMs: 10_000 });
    await clock.advance(9_999);
    expect(w.log).toEqual([]);
    const missed = w.next("continuationMissed");
    await clock.advance(1);
    await missed; // the file is read once more at the deadline (real I/O), then it is reported
    expect(w.log).toEqual(["continuationMissed"]);
  });

  it("a continuation whose turn starts in time is not reported missed", async () => {
    const clock = new VirtualClock();
    await using w = await watching({ clock, expectTurnWithinMs: 10_000 });
    const started = w.next("turnStarted");
    await fs.appendFile(w.file, line({ type: "task_started", turn_id: "t1" }));
    await started;
    await clock.advance(60_000);
    expect(w.log).toEqual(["turnStarted"]);
  });
});
