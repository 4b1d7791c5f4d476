import fs from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { candidateDayFolders, findNewRollout } from "../../src/codex/rollout-find.js";
import { RolloutTail } from "../../src/codex/rollout-tail.js";
import { parseSessionId, sessionIdFromRolloutName } from "../../src/codex/session-id.js";
import { generateOldRollouts, writeRollout } from "../helpers/rollouts.js";
import { tempDir } from "../helpers/tmp.js";

const ev = (payload: object): string =>
  JSON.stringify({ timestamp: "t", type: "event_msg", payload });

describe("session ids", () => {
  it("accepts UUIDs and rejects paths, flags and empty strings", () => {
    expect(parseSessionId("01A20FBC-F496-7F30-BE61-1B32924626F4")).toBe(
      "01a20fbc-f496-7f30-be61-1b32924626f4",
    );
    for (const bad of [
      "../../etc",
      "--last",
      "",
      "01a20fbc-f496-7f30-be61-1b32924626f4/../x",
      "a".repeat(500),
    ]) {
      expect(() => parseSessionId(bad)).toThrow(/not a Codex session id/);
    }
    expect(
      sessionIdFromRolloutName(
        "rollout-2026-11-24T01-20-15-01a20fbc-f496-7f30-be61-1b32924626f4.jsonl",
      ),
    ).toBe("01a20fbc-f496-7f30-be61-1b32924626f4");
    expect(sessionIdFromRolloutName("rollout-x-../../etc.jsonl")).toBeNull();
  });
});

describe("RolloutTail", () => {
  it("yields typed events incrementally, across partial lines, past garbage and long lines", async () => {
    await using dir = await tempDir();
    const file = dir.join("r.jsonl");
    const tail = new RolloutTail(file, { maxLineBytes: 1000, chunkBytes: 7 });
    expect(await tail.read()).toEqual([]); // not there yet
    const { id } = await writeRollout(dir.join("s"), { timestamp: new Date(), cwd: "/p" });
    const meta = (
      await fs.readFile(
        (await fs.readdir(dir.join("s"), { recursive: true }))
          .map((f) => dir.join("s", f))
          .find((f) => f.endsWith(".jsonl"))!,
        "utf8",
      )
    ).trim();
    const big = new RolloutTail(file, { chunkBytes: 4096 });
    await fs.writeFile(
      file,
      meta + "\n" + ev({ type: "task_started", turn_id: "t1" }) + "\n" + "not json at all\n",
    );
    const first = await big.read();
    expect(first.map((e) => e.type)).toEqual(["session_meta", "task_started"]);
    expect(first[0]).toMatchObject({ meta: { id, cwd: "/p", originator: "codex_exec" } });

    // The small tail skips the session_meta (longer than its cap) but keeps going.
    expect((await tail.read()).map((e) => e.type)).toEqual(["task_started"]);
    expect(tail.skippedLines).toBe(2);

    const complete = ev({
      type: "task_complete",
      turn_id: "t1",
      error: { message: "You’ve hit your usage limit.", codex_error_info: "usage_limit_exceeded" },
    });
    await fs.appendFile(file, complete.slice(0, 20));
    expect(await tail.read()).toEqual([]); // partial line waits
    await fs.appendFile(
      file,
      complete.slice(20) +
        "\n" +
        ev({ type: "something_new" }) +
        "\n" +
        ev({
          type: "token_count",
          rate_limits: {
            primary: { used_percent: 100, window_minutes: 300, resets_at: 1795486637 },
            secondary: null,
            plan_type: "plus",
          },
        }) +
        "\n" +
        "x".repeat(5000) +
        "\n" +
        ev({ type: "turn_aborted", reason: "interrupted" }) +
        "\n" +
        ev({ type: "error", message: "boom", codex_error_info: { http_connection_failed: {} } }) +
        "\n",
    );
    const events = await tail.read();
    expect(events).toEqual([
      {
        type: "task_complete",
        turnId: "t1",
        error: { message: "You’ve hit your usage limit.", codexErrorInfo: "usage_limit_exceeded" },
      },
      {
        type: "token_count",
        // Passed on as codex wrote it: src/quota/parse-rate-limits.ts reads it.
        rateLimits: {
          primary: { used_percent: 100, window_minutes: 300, resets_at: 1795486637 },
          secondary: null,
          plan_type: "plus",
        },
      },
      { type: "turn_aborted", turnId: null, reason: "interrupted" },
      { type: "error", error: { message: "boom", codexErrorInfo: "http_connection_failed" } },
    ]);
    expect(tail.offset).toBe((await fs.stat(file)).size);
  });
});

describe("findNewRollout", () => {
  it("finds the session started after the launch in the cwd, not older ones or other folders", async () => {
    await using dir = await tempDir();
    const sessions = dir.join("sessions");
    const cwd = dir.join("proj");
    await fs.mkdir(cwd);
    const since = Date.now();
    await writeRollout(sessions, { timestamp: new Date(since - 3_600_000), cwd }); // old
    await writeRollout(sessions, { timestamp: new Date(since + 10), cwd: dir.join("other") });
    await writeRollout(sessions, { timestamp: new Date(since + 20), cwd, originator: "codex-tui" });
    const mine = await writeRollout(sessions, { timestamp: new Date(since + 30), cwd });
    const found = await findNewRollout({
      sessionsDir: sessions,
      since,
      cwd,
      originator: "codex_exec",
      timeoutMs: 2000,
    });
    expect(found?.meta.id).toBe(mine.id);
    expect(found?.file).toBe(mine.file);
  });

  it("waits for a file that appears later and gives up with null after the timeout", async () => {
    await using dir = await tempDir();
    const sessions = dir.join("sessions");
    const since = Date.now();
    const pending = findNewRollout({
      sessionsDir: sessions,
      since,
      cwd: dir.path,
      timeoutMs: 5000,
      pollMs: 20,
    });
    const mine = await writeRollout(sessions, { timestamp: new Date(since + 5), cwd: dir.path });
    expect((await pending)?.meta.id).toBe(mine.id);
    expect(
      await findNewRollout({
        sessionsDir: sessions,
        since: Date.now() + 60_000,
        cwd: dir.path,
        timeoutMs: 50,
        pollMs: 10,
      }),
    ).toBeNull();
  });

  it("only ever lists the launch day's and today's folders, however big the history", async () => {
    await using dir = await tempDir();
    const sessions = dir.join("sessions");
    const now = new Date();
    await generateOldRollouts(sessions, { count: 300, now, cwd: dir.path });
    const folders = candidateDayFolders([now.getTime() - 2000, now.getTime()]);
    expect(folders.length).toBeGreaterThanOrEqual(1);
    expect(folders.length).toBeLessThanOrEqual(4);
    // Old day folders exist but are not candidates: the scan cannot touch them.
    const years = await fs.readdir(sessions);
    const all = (await fs.readdir(sessions, { recursive: true })).filter(
      (p) => p.split(path.sep).length === 3,
    );
    expect(years.length).toBeGreaterThan(0);
    expect(all.some((d) => folders.includes(d.split(path.sep).join("/")))).toBe(false);
    const since = Date.now();
    const mine = await writeRollout(sessions, { timestamp: new Date(since + 5), cwd: dir.path });
    expect(
      (await findNewRollout({ sessionsDir: sessions, since, cwd: dir.path, timeoutMs: 2000 }))?.meta
        .id,
    ).toBe(mine.id);
  });

  it("covers yesterday's folder around midnight", () => {
    const justAfterMidnight = new Date(2026, 10, 25, 0, 0, 1).getTime();
    const folders = candidateDayFolders([justAfterMidnight - 2000, justAfterMidnight]);
    expect(folders).toContain("2026/11/24");
    expect(folders).toContain("2026/11/25");
  });
});
