/**
 * Binding by the file the child holds open (src/supervisor/bind.ts), with small real processes:
 * the rollout a process (or its child, behind a wrapper) has open is found; another rollout in
 * the same folder is not; an exited process is "gone".
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { openRollout } from "../../src/supervisor/bind.js";
import { waitForExit } from "../../src/supervisor/stop-child.js";
import { tempDir } from "../helpers/tmp.js";

const haveProc = await fs.access("/proc/self/fd").then(
  () => true,
  () => false,
);

/** A process that opens `file` for appending, says "ready" and waits to be killed. */
function holder(file: string, viaShell: boolean): { child: ChildProcess; ready: Promise<void> } {
  const script = `const fs=require("node:fs");fs.openSync(${JSON.stringify(file)},"a");console.log("ready");setInterval(()=>{},1000);`;
  const child = viaShell
    ? // Its own process group, so the test can end the wrapper and what it started together.
      spawn("sh", ["-c", `"${process.execPath}" -e '${script}'; true`], {
        stdio: ["ignore", "pipe", "inherit"],
        detached: true,
      })
    : spawn(process.execPath, ["-e", script], { stdio: ["ignore", "pipe", "inherit"] });
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout?.setEncoding("utf8").on("data", (d: string) => {
      if (d.includes("ready")) resolve();
    });
    child.once("exit", () => reject(new Error("the holder exited early")));
  });
  return { child, ready };
}

describe.skipIf(!haveProc)("openRollout (Linux /proc)", () => {
  it("finds the rollout the process holds open, not a neighbour's", async () => {
    await using dir = await tempDir();
    const day = dir.join("sessions", "2026", "06", "01");
    await fs.mkdir(day, { recursive: true });
    const mine = path.join(
      day,
      "rollout-2026-06-01T12-00-00-0193aaaa-0000-7000-8000-000000000001.jsonl",
    );
    const other = path.join(
      day,
      "rollout-2026-06-01T12-00-00-0193aaaa-0000-7000-8000-000000000002.jsonl",
    );
    await fs.writeFile(other, "");
    const h = holder(mine, false);
    try {
      await h.ready;
      const found = await openRollout(h.child.pid!, dir.join("sessions"));
      expect(found).toEqual({ kind: "open", file: await fs.realpath(mine) });
    } finally {
      h.child.kill("SIGKILL");
      await waitForExit(h.child);
    }
    expect(await openRollout(h.child.pid!, dir.join("sessions"))).toEqual({ kind: "gone" });
  });

  it("looks through a wrapper at the process it started; null when nothing is open", async () => {
    await using dir = await tempDir();
    const day = dir.join("sessions", "2026", "06", "01");
    await fs.mkdir(day, { recursive: true });
    const mine = path.join(
      day,
      "rollout-2026-06-01T12-00-00-0193aaaa-0000-7000-8000-000000000003.jsonl",
    );
    const notRollout = dir.join("elsewhere.jsonl");
    const plain = holder(notRollout, false);
    const wrapped = holder(mine, true);
    try {
      await Promise.all([plain.ready, wrapped.ready]);
      expect(await openRollout(plain.child.pid!, dir.join("sessions"))).toEqual({ kind: "none" });
      expect(await openRollout(wrapped.child.pid!, dir.join("sessions"))).toEqual({
        kind: "open",
        file: await fs.realpath(mine),
      });
    } finally {
      plain.child.kill("SIGKILL");
      process.kill(-wrapped.child.pid!, "SIGKILL");
      await Promise.all([waitForExit(plain.child), waitForExit(wrapped.child)]);
    }
  });
});
