/**
 * Giving the terminal back after a codex TUI (src/supervisor/terminal.ts), under a real
 * pseudo-terminal (`script`): settings broken by a killed TUI (raw, no echo) are put back, the
 * modes codex turned on are turned off, and input typed meanwhile is dropped before the next codex
 * could read it.
 */
import { spawn } from "node:child_process";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { saveTerminal as SaveTerminal } from "../../src/supervisor/terminal.js";
import { terminalReset } from "../../src/supervisor/terminal.js";
import { ROOT } from "../helpers/cli.js";

const module = JSON.stringify(path.join(ROOT, "dist/supervisor/terminal.js"));

interface Pty {
  output(): string;
  write(text: string): void;
  /** Resolves once the output contains `marker`. */
  waitFor(marker: string): Promise<void>;
  done: Promise<string>;
}

function underPty(script: string): Pty {
  const child = spawn(
    "script",
    ["-qec", `${process.execPath} --input-type=module -e '${script}'`, "/dev/null"],
    { stdio: ["pipe", "pipe", "pipe"] },
  );
  let out = "";
  const waiters: Array<{ marker: string; resolve: () => void }> = [];
  child.stdout.setEncoding("utf8").on("data", (d: string) => {
    out += d;
    for (const w of waiters.filter((x) => out.includes(x.marker))) w.resolve();
  });
  const done = new Promise<string>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", () => resolve(out));
  });
  return {
    output: () => out,
    write: (text) => child.stdin.write(text),
    waitFor: (marker) =>
      out.includes(marker)
        ? Promise.resolve()
        : new Promise((resolve) => waiters.push({ marker, resolve })),
    done: done.finally(() => child.stdin.end()),
  };
}

function lastJson<T>(out: string): T {
  return JSON.parse(out.slice(out.lastIndexOf("{"), out.lastIndexOf("}") + 1)) as T;
}

describe("giving the terminal back after codex", () => {
  it("restores echo and canonical mode, and undoes what a killed TUI left on", async () => {
    const pty = underPty(
      [
        `import { execSync } from "node:child_process";`,
        `const { saveTerminal } = await import(${module});`,
        `const t = await saveTerminal({ stdin: process.stdin, write: (b) => process.stdout.write(b) });`,
        `execSync("stty raw -echo", { stdio: "inherit" });`,
        `const broken = execSync("stty -a", { stdio: ["inherit", "pipe", "inherit"] }).toString();`,
        `process.stdout.write("<<");`,
        `await t.afterCodex(true);`,
        `process.stdout.write(">>");`,
        `const fixed = execSync("stty -a", { stdio: ["inherit", "pipe", "inherit"] }).toString();`,
        `console.log(JSON.stringify({ broken, fixed }));`,
        `process.exit(0);`,
      ].join(" "),
    );
    const out = await pty.done;
    const result = lastJson<{ broken: string; fixed: string }>(out);
    expect(result.broken).toMatch(/-echo\b/);
    expect(result.broken).toMatch(/-icanon\b/);
    expect(result.fixed).toMatch(/(^|\s)echo\b/);
    expect(result.fixed).toMatch(/(^|\s)icanon\b/);
    // What the terminal received between the markers is the reset, byte for byte.
    expect(out.slice(out.indexOf("<<") + 2, out.indexOf(">>"))).toBe(terminalReset(true));
  });

  it("drops input typed while no codex ran, so the next one does not read it", async () => {
    const pty = underPty(
      [
        `import { execSync } from "node:child_process";`,
        `import fs from "node:fs";`,
        `const { saveTerminal } = await import(${module});`,
        `const t = await saveTerminal({ stdin: process.stdin, write: () => {} });`,
        `execSync("stty -icanon -echo min 1", { stdio: "inherit" });`,
        `console.log("ready");`,
        `const one = Buffer.alloc(1);`,
        `fs.readSync(0, one, 0, 1, null);`, // waits for the typing; the rest stays pending
        `await t.afterCodex(false);`,
        `execSync("stty -icanon min 0 time 0", { stdio: "inherit" });`,
        `const left = fs.readSync(0, Buffer.alloc(64), 0, 64, null);`,
        `console.log(JSON.stringify({ first: one.toString(), left }));`,
        `process.exit(0);`,
      ].join(" "),
    );
    await pty.waitFor("ready");
    pty.write("typed during the hand-over");
    const result = lastJson<{ first: string; left: number }>(await pty.done);
    expect(result.first).toBe("t");
    expect(result.left).toBe(0);
  });

  it("does nothing without a terminal", async () => {
    const { saveTerminal } = (await import(JSON.parse(module) as string)) as {
      saveTerminal: typeof SaveTerminal;
    };
    expect(await saveTerminal({ stdin: { isTTY: false }, write: () => undefined })).toBeNull();
  });

  it("after a killed codex pops both kitty levels around leaving the alternate screen", () => {
    const killed = terminalReset(true);
    const order = ["\u001b[<u", "\u001b[?1049l", "\u001b[<u", "\u001b[?2004l", "\u001b[?1004l"];
    let at = -1;
    for (const part of order) {
      const next = killed.indexOf(part, at + 1);
      expect(next).toBeGreaterThan(at);
      at = next;
    }
    // After a codex that exited by itself (and undid its own), nothing moves the cursor.
    const exited = terminalReset(false);
    expect(exited).not.toContain("\u001b[?1049l");
    expect(exited).not.toContain("\u001b[<u");
    expect(exited).toContain("\u001b[?2004l");
    expect(exited).toContain("\u001b[?1004l");
  });
});
