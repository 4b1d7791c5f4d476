import { spawn } from "node:child_process";
import { once } from "node:events";
import { describe, expect, it } from "vitest";
import { exitCodeOf, hasExited, stopChild } from "../../src/supervisor/stop-child.js";

/** A node child that prints "ready" once its SIGTERM handling is installed. */
function child(ignoreTerm: boolean) {
  const code = ignoreTerm
    ? "process.on('SIGTERM',()=>{});console.log('ready');setInterval(()=>{},1000)"
    : "console.log('ready');setInterval(()=>{},1000)";
  const c = spawn(process.execPath, ["-e", code], { stdio: ["ignore", "pipe", "inherit"] });
  const ready = once(c.stdout, "data");
  return { c, ready };
}

describe("stopChild", () => {
  it("a child that obeys SIGTERM is not escalated", async () => {
    const { c, ready } = child(false);
    await ready;
    const r = await stopChild(c, { graceMs: 5000 });
    expect(r).toMatchObject({ signal: "SIGTERM", escalated: false });
    expect(exitCodeOf(r)).toBe(143);
    expect(hasExited(c)).toBe(true);
  });

  it("escalates to SIGKILL only after the grace period", async () => {
    const { c, ready } = child(true);
    await ready;
    const started = Date.now();
    const r = await stopChild(c, { graceMs: 1000 });
    expect(r).toMatchObject({ signal: "SIGKILL", escalated: true });
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(exitCodeOf(r)).toBe(137);
  });

  it("sends nothing to a child that is already gone (signal death counts)", async () => {
    const { c, ready } = child(false);
    await ready;
    c.kill("SIGKILL");
    await once(c, "exit");
    expect(c.exitCode).toBeNull(); // only signalCode is set: the seed's check would miss it
    const r = await stopChild(c, { graceMs: 5000 });
    expect(r).toMatchObject({ signal: "SIGKILL", escalated: false });
  });
});
