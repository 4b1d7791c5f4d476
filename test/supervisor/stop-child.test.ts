/**
 * Stopping a real child: SIGTERM, then SIGKILL only once the grace period has passed on the clock
 * (virtual here: the grace is moved past by the test, never waited out), and the one exit-code
 * rule shared with `run` (src/codex/spawn.ts).
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { describe, expect, it } from "vitest";
import { exitCodeOf } from "../../src/codex/spawn.js";
import { hasExited, stopChild } from "../../src/supervisor/stop-child.js";
import { VirtualClock } from "../helpers/virtual-clock.js";

/** A node child that prints "ready" once its signal handling is installed, "term" on SIGTERM. */
function child(ignoreTerm: boolean) {
  const code = ignoreTerm
    ? "process.on('SIGTERM',()=>{console.log('term')});console.log('ready');setInterval(()=>{},1000)"
    : "console.log('ready');setInterval(()=>{},1000)";
  const c = spawn(process.execPath, ["-e", code], { stdio: ["ignore", "pipe", "inherit"] });
  c.stdout.setEncoding("utf8");
  const ready = once(c.stdout, "data");
  return { c, ready };
}

describe("stopChild", () => {
  it("a child that obeys SIGTERM is not escalated", async () => {
    const clock = new VirtualClock();
    const { c, ready } = child(false);
    await ready;
    const r = await stopChild(c, { graceMs: 5000, clock });
    expect(r).toMatchObject({ signal: "SIGTERM", escalated: false, code128: 143 });
    expect(hasExited(c)).toBe(true);
  });

  it("escalates to SIGKILL only once the grace period has passed", async () => {
    const clock = new VirtualClock();
    const { c, ready } = child(true);
    await ready;
    let result: Awaited<ReturnType<typeof stopChild>> | null = null;
    const stopping = stopChild(c, { graceMs: 5000, clock }).then((r) => (result = r));
    await once(c.stdout, "data"); // "term": the SIGTERM arrived and was ignored
    await clock.advance(4999);
    expect(result).toBeNull();
    expect(hasExited(c)).toBe(false);
    await clock.advance(1);
    await stopping;
    expect(result).toMatchObject({ signal: "SIGKILL", escalated: true, code128: 137 });
  });

  it("sends nothing to a child that is already gone (signal death counts)", async () => {
    const { c, ready } = child(false);
    await ready;
    c.kill("SIGKILL");
    await once(c, "exit");
    expect(c.exitCode).toBeNull(); // only signalCode is set: the seed's check would miss it
    const r = await stopChild(c, { graceMs: 5000, clock: new VirtualClock() });
    expect(r).toMatchObject({ signal: "SIGKILL", escalated: false });
  });
});

describe("one exit-code rule", () => {
  it("the code, else 128 + the signal's number, else 1 (an unknown signal is not signal 0)", () => {
    expect(exitCodeOf(0, null)).toBe(0);
    expect(exitCodeOf(7, null)).toBe(7);
    expect(exitCodeOf(null, "SIGTERM")).toBe(143);
    expect(exitCodeOf(null, "SIGHUP")).toBe(129);
    expect(exitCodeOf(null, "SIGNOPE" as NodeJS.Signals)).toBe(1);
    expect(exitCodeOf(null, null)).toBe(1);
  });
});
