/**
 * What a supervised session tells its user (src/supervisor/session-lines.ts), with a real screen
 * gate and report: a switch line is formatted from the pool a switch's claim just committed (no
 * re-read) and falls back to a plain line when the pool cannot be read; once the session is over,
 * a TUI that switched says where it ran, the report's lines follow, and an exhausted pool is
 * PoolExhaustedError.
 */
import fs from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { PoolExhaustedError } from "../../src/platform/errors.js";
import { poolPaths } from "../../src/platform/paths.js";
import { FilePoolStore } from "../../src/pool/file-store.js";
import type { Pool } from "../../src/pool/schema.js";
import { initialState } from "../../src/supervisor/machine.js";
import { SessionReport } from "../../src/supervisor/report.js";
import {
  endOfSession,
  sessionLines,
  sessionScreen,
  type SupervisorOutput,
} from "../../src/supervisor/session-lines.js";
import { tempDir } from "../helpers/tmp.js";
import { clockAt } from "../helpers/virtual-clock.js";

const SESSION = "01a20fbc-f496-7f30-be61-1b32924626f4";
const A = { id: "acc_a", label: "#1 a@example.com" };
const B = { id: "acc_b", label: "#2 b@example.com" };
const EMPTY: Pool = { version: 1, defaultAccount: null, accounts: [], sessions: [] };

function output() {
  const info: string[] = [];
  const out: SupervisorOutput = {
    info: (text) => info.push(text),
    line: () => undefined,
    progress: () => undefined,
    clearProgress: () => undefined,
    interactive: false,
  };
  return { out, info };
}

/** A real pool file that does not parse: every read fails, and a switch line that needs one is plain. */
async function unreadableStore(dir: string): Promise<FilePoolStore> {
  const paths = poolPaths(dir);
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  await fs.writeFile(paths.poolFile, "{ not json", { mode: 0o600 });
  return new FilePoolStore({ paths, lockWaitMs: 5000, lockStaleMs: 30_000 });
}

describe("the session's lines", () => {
  it("formats a switch line from the claimed pool, and plainly once it must read a failing store", async () => {
    await using dir = await tempDir();
    const store = await unreadableStore(dir.join("pool"));
    let now = 1_000_000;
    const clock = clockAt(() => now);
    const { out, info } = output();
    const screen = sessionScreen(out);
    const lines = sessionLines({
      out,
      clock,
      store,
      screen,
      report: new SessionReport(),
      json: false,
      switcher: () => null,
      sessionId: () => SESSION,
    });
    lines.claimed(EMPTY);
    now += 500;
    lines.output.announceSwitch(SESSION, A, B, "limit");
    lines.claimed(null);
    lines.output.announceSwitch(SESSION, B, A, "floor");
    await screen.drain();
    await expect(store.read()).rejects.toThrow(); // the plain line's cause, not a guess
    expect(info).toHaveLength(2);
    expect(info[0]).toMatch(/^session 01a20fbc… moved from #1 a@example\.com \(.*\) to #2 b@/);
    expect(info[0]).toMatch(/usage limit reached$/);
    expect(info[1]).toBe("session 01a20fbc… moved from #2 b@example.com to #1 a@example.com");
  });

  it.each([
    ["relaunching", false, []],
    // codex --remote names a reconnect command for an app-server that ends with the session.
    ["live", true, [`to go on with this session later: codex-pool run resume ${SESSION}`]],
  ])(
    "ends a TUI that switched (%s) with where it ran and the report, and returns its code",
    async (_how, live, resume) => {
      const { out, info } = output();
      const screen = sessionScreen(out);
      const report = new SessionReport();
      report.add("a file lost to a newer copy");
      const state = initialState(SESSION);
      const result = {
        code: 0,
        state: { ...state, ctx: { ...state.ctx, served: [A, B] } },
        exhaustion: null,
      };
      const code = await endOfSession(result, {
        mode: "tui",
        clock: clockAt(() => 0),
        screen,
        report,
        live,
      });
      expect(code).toBe(0);
      expect(info).toEqual([
        "session 01a20fbc… ran on #1 a@example.com → #2 b@example.com",
        "a file lost to a newer copy",
        ...resume,
      ]);
    },
  );

  it("ends an exhausted session with PoolExhaustedError, after its lines", async () => {
    const { out, info } = output();
    const report = new SessionReport();
    report.add("a warning");
    const exhaustion = { resets: [], earliest: null };
    const result = { code: 75, state: initialState(SESSION), exhaustion };
    const ending = endOfSession(result, {
      mode: "exec",
      clock: clockAt(() => 0),
      screen: sessionScreen(out),
      report,
      live: false,
    });
    await expect(ending).rejects.toBeInstanceOf(PoolExhaustedError);
    expect(info).toEqual(["a warning"]);
  });
});
