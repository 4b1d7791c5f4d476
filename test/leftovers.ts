/**
 * The suite's global teardown: no process a test started may outlive it. A process adopted by
 * pid 1 whose command line or working directory lies in a test's temporary directory that is
 * already gone (`test/helpers/tmp.ts` removes it when the test ends) was left behind — codex's
 * background daemon is the usual suspect (docs/codex-cli.md §5.4). Such processes are killed and
 * the run fails, naming them, so the test that leaked them is found rather than the machine
 * filling up with them.
 */
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { processTable } from "./helpers/processes.js";

const PREFIX = path.join(os.tmpdir(), "cp-test-");

interface Leftover {
  readonly pid: number;
  readonly command: string;
}

async function exists(p: string): Promise<boolean> {
  return fs.stat(p).then(
    () => true,
    () => false,
  );
}

/** The test directory `text` mentions, if any (`/tmp/cp-test-XXXXXX`). */
function testDirIn(text: string): string | null {
  const at = text.indexOf(PREFIX);
  if (at < 0) return null;
  const rest = text.slice(at + PREFIX.length);
  const name = /^[A-Za-z0-9]+/.exec(rest)?.[0];
  return name === undefined ? null : PREFIX + name;
}

export async function leftovers(): Promise<Leftover[]> {
  const found: Leftover[] = [];
  for (const p of await processTable()) {
    if (p.ppid !== 1) continue;
    const command = p.argv.join(" ");
    const dir = testDirIn(command) ?? testDirIn(p.cwd);
    if (dir !== null && !(await exists(dir))) found.push({ pid: p.pid, command });
  }
  return found;
}

export default function setup(): () => Promise<void> {
  return async () => {
    const left = await leftovers();
    if (left.length === 0) return;
    for (const p of left) {
      try {
        process.kill(p.pid, "SIGKILL");
      } catch {
        // Already gone.
      }
    }
    const list = left.map((p) => `  pid ${p.pid}: ${p.command.slice(0, 200)}`).join("\n");
    // vitest reports an error thrown here but still exits 0: the exit code is set by hand.
    process.stderr.write(
      `FAIL: processes outlived the tests that started them (now killed):\n${list}\n`,
    );
    process.exitCode = 1;
  };
}
