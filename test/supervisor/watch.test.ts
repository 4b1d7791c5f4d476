/**
 * The watcher on a real rollout file: a line codex appends wakes it at once (not at the next poll,
 * here a minute away), a usage limit is stored before the turn's end is reported, and quota
 * readings waiting to settle are stored once, the latest, when the watch drains.
 */
import fs from "node:fs/promises";
import { describe, expect, it } from "vitest";
import type { QuotaSnapshot } from "../../src/pool/schema.js";
import type { WatchEvent } from "../../src/supervisor/session-ports.js";
import { startWatch, type WatchDeps } from "../../src/supervisor/watch.js";
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

async function watching(quotaSettleMs: number) {
  const dir = await tempDir();
  const { file, id } = await writeRollout(dir.join("sessions"), {
    timestamp: new Date(),
    cwd: dir.path,
    originator: "codex_exec",
  });
  const log: string[] = [];
  const observed: QuotaSnapshot[] = [];
  let onEvent: ((e: WatchEvent) => void) | null = null;
  const deps: WatchDeps = {
    clock: { now: () => Date.now() },
    sessionsDir: dir.join("sessions"),
    cwd: dir.path,
    mode: "exec",
    bindTimeoutMs: 5_000,
    tailPollMs: 60_000, // only a change notification can wake the tail within a test
    quotaPollMs: 3_600_000,
    quotaSettleMs,
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
      launchedAt: Date.now(),
      pid: null,
      resumed: false,
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
    await using w = await watching(60_000);
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
    await using w = await watching(60_000);
    await fs.appendFile(w.file, reading(10));
    await fs.appendFile(w.file, reading(20));
    await w.watcher.drain();
    expect(w.observed.map((s) => s.windows[0]?.usedPercent)).toEqual([20]);
    expect(w.log).not.toContain(expect.stringMatching(/^error/));
  });
});
