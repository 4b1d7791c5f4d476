/**
 * The session's port falling back from live to relaunch (src/supervisor/switcher.ts), with fake
 * live and relaunch ports that record what they were asked.
 */
import { describe, expect, it } from "vitest";
import { CancelledError } from "../../src/platform/errors.js";
import { LiveUnavailableError, type Broken, type LivePort } from "../../src/supervisor/live.js";
import type { RelaunchPort } from "../../src/supervisor/relaunch.js";
import type { StartRequest, SwitchEvent } from "../../src/supervisor/session-ports.js";
import { createSwitcher } from "../../src/supervisor/switcher.js";

const A = { id: "acc_aaaaaa", label: "#1 alice@…" };
const B = { id: "acc_bbbbbb", label: "#2 bob@…" };
const SID = "0193aaaa-bbbb-7ccc-8ddd-eeeeeeeeeeee";
const never = new AbortController().signal;

interface Fake {
  calls: string[];
  running: boolean;
  fail: Error | null;
}

/** `fn`'s outcome as a promise (fakes that answer at once). */
function settled<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
}

function fakeLive(f: Fake): LivePort {
  return {
    start: (r) =>
      settled(() => {
        f.calls.push(`live.start ${r.account.id}`);
        if (f.fail !== null) throw f.fail;
        f.running = true;
      }),
    move: (r) =>
      settled(() => {
        f.calls.push(`live.move ${r.to.id}`);
        if (f.fail !== null) throw f.fail;
      }),
    stop: () =>
      settled(() => {
        f.calls.push("live.stop");
        f.running = false;
      }),
    running: () => f.running,
    release: () => Promise.resolve(null),
    close: () =>
      settled(() => {
        f.calls.push("live.close");
        f.running = false;
      }),
    tell: (line) => f.calls.push(`live.tell ${line}`),
    preLogin: (a) => f.calls.push(`live.preLogin ${a.id}`),
    abandonPreLogin: () => Promise.resolve(),
    quotaSettled: () => Promise.resolve(false),
  };
}

function fakeRelaunch(f: Fake, gate?: Promise<void>): RelaunchPort {
  return {
    start: async (r, signal) => {
      f.calls.push(`relaunch.start ${r.account.id} ${JSON.stringify(r.resume)}`);
      await gate;
      if (signal.aborted) throw new CancelledError("stopped before codex started");
      f.running = true;
    },
    move: (r) =>
      settled(() => {
        f.calls.push(`relaunch.move ${r.to.id}`);
        f.running = true;
      }),
    stop: () =>
      settled(() => {
        f.calls.push("relaunch.stop");
        f.running = false;
      }),
    running: () => f.running,
    release: () => Promise.resolve(null),
    close: () => settled(() => void f.calls.push("relaunch.close")),
    prepare: () => undefined,
    inDoubt: () => false,
    settleTokens: () => Promise.resolve(true),
  };
}

function world(options: { liveFails?: Error | null; gate?: Promise<void> } = {}) {
  const live: Fake = { calls: [], running: false, fail: options.liveFails ?? null };
  const relaunch: Fake = { calls: [], running: false, fail: null };
  const events: SwitchEvent[] = [];
  const said: string[] = [];
  let broken: Broken = () => undefined;
  const port = createSwitcher({
    initial: "live",
    relaunch: fakeRelaunch(relaunch, options.gate),
    emit: (e) => events.push(e),
    fellBack: (reason) => said.push(reason),
    live: (b) => {
      broken = b;
      return fakeLive(live);
    },
  });
  return {
    port,
    live,
    relaunch,
    events,
    said,
    broken: (r: string, s: StartRequest) => broken(r, s),
  };
}

const startOnA: StartRequest = { account: A, sessionId: null, resume: null };

describe("createSwitcher", () => {
  it("runs live while live works, and tells the TUI", async () => {
    const w = world();
    await w.port.start(startOnA, never);
    await w.port.move({ from: A, to: B, sessionId: SID, continuation: true, resend: false }, never);
    w.port.tell("moved");
    expect(w.port.mode()).toBe("live");
    expect(w.live.calls).toEqual([`live.start ${A.id}`, `live.move ${B.id}`, "live.tell moved"]);
    expect(w.relaunch.calls).toEqual([]);
  });

  it("falls back for good when the app-server cannot serve a start, said once", async () => {
    const w = world({
      liveFails: new LiveUnavailableError("codex app-server exited before listening"),
    });
    await w.port.start(startOnA, never);
    expect(w.port.mode()).toBe("relaunch");
    expect(w.said).toEqual(["codex app-server exited before listening"]);
    expect(w.relaunch.calls).toEqual([`relaunch.start ${A.id} null`]);
    expect(w.live.calls).toEqual([`live.start ${A.id}`, "live.close"]);
    await w.port.move(
      { from: A, to: B, sessionId: SID, continuation: false, resend: false },
      never,
    );
    expect(w.relaunch.calls.at(-1)).toBe(`relaunch.move ${B.id}`);
    expect(w.said).toHaveLength(1);
    w.port.tell("not shown live any more");
    expect(w.live.calls).not.toContain("live.tell not shown live any more");
  });

  it("passes any other failure on, live mode kept", async () => {
    const w = world({ liveFails: new Error("account removed") });
    await expect(w.port.start(startOnA, never)).rejects.toThrow("account removed");
    expect(w.port.mode()).toBe("live");
    expect(w.relaunch.calls).toEqual([]);
  });

  it("resumes a running session by relaunching when live mode breaks under it", async () => {
    const w = world();
    await w.port.start(startOnA, never);
    w.live.running = false; // the live port stopped its codex quietly
    w.broken("codex app-server exited (SIGKILL)", {
      account: A,
      sessionId: SID,
      resume: { sessionId: SID, continuation: false },
    });
    expect(w.port.running()).toBe(true); // between two codex processes: still ours
    await w.port.close();
    expect(w.said).toEqual(["codex app-server exited (SIGKILL)"]);
    expect(w.relaunch.calls[0]).toBe(
      `relaunch.start ${A.id} ${JSON.stringify({ sessionId: SID, continuation: false })}`,
    );
    expect(w.events).toEqual([]);
  });

  it("a stop during that resume gives it up and reports codex's end", async () => {
    let open: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const w = world({ gate });
    await w.port.start(startOnA, never);
    w.broken("codex app-server exited (SIGKILL)", { account: A, sessionId: SID, resume: null });
    const stopped = w.port.stop();
    open();
    await stopped;
    expect(w.events).toEqual([{ type: "exited", code: 1 }]);
    expect(w.relaunch.running).toBe(false);
  });
});
