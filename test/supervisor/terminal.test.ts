/**
 * The terminal guard under a real pseudo-terminal (`script`): settings broken by a killed TUI
 * (raw, no echo) are put back to what they were before the launch.
 */
import { spawn } from "node:child_process";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { saveTerminal as SaveTerminal } from "../../src/supervisor/terminal.js";
import { ROOT } from "../helpers/cli.js";

const guard = path.join(ROOT, "dist/supervisor/terminal.js");

function underPty(script: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      "script",
      ["-qec", `${process.execPath} --input-type=module -e '${script}'`, "/dev/null"],
      {
        stdio: ["pipe", "pipe", "pipe"],
      },
    );
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
    child.on("error", reject);
    child.on("close", () => resolve(out));
    child.stdin.end();
  });
}

describe("terminal guard", () => {
  it("restores echo and canonical mode after a child left the terminal raw", async () => {
    const out = await underPty(
      [
        `import { execSync } from "node:child_process";`,
        `const { saveTerminal } = await import(${JSON.stringify(guard)});`,
        `const saved = await saveTerminal();`,
        `execSync("stty raw -echo", { stdio: "inherit" });`,
        `const broken = execSync("stty -a", { stdio: ["inherit", "pipe", "inherit"] }).toString();`,
        `await saved.restore();`,
        `const fixed = execSync("stty -a", { stdio: ["inherit", "pipe", "inherit"] }).toString();`,
        `console.log(JSON.stringify({ saved: saved !== null, broken, fixed }));`,
      ].join(" "),
    );
    const json = out.slice(out.indexOf("{"), out.lastIndexOf("}") + 1);
    const result = JSON.parse(json) as { saved: boolean; broken: string; fixed: string };
    expect(result.saved).toBe(true);
    expect(result.broken).toMatch(/-echo\b/);
    expect(result.broken).toMatch(/-icanon\b/);
    expect(result.fixed).toMatch(/(^|\s)echo\b/);
    expect(result.fixed).toMatch(/(^|\s)icanon\b/);
  });

  it("does nothing without a terminal", async () => {
    const { saveTerminal } = (await import(guard)) as { saveTerminal: typeof SaveTerminal };
    expect(await saveTerminal({ isTTY: false })).toBeNull();
  });
});
