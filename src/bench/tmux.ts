/**
 * A codex TUI for the bench: `codex-pool run` in a private tmux server (the TUI needs a terminal),
 * with exactly the world's environment. Typing a prompt, pressing Enter until the simulator sees it
 * (the TUI takes an Enter right after fast typing as part of a paste), and codex-pool's own pid.
 */
import { execFile } from "node:child_process";
import fs from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface BenchPane extends AsyncDisposable {
  /** The pid of `codex-pool run` (the script execs it). */
  readonly pid: number;
  capture(): Promise<string>;
  /** Waits until the pane shows `text`. */
  waitFor(text: string, timeoutMs?: number): Promise<void>;
  /** Types `text` and presses Enter until `taken()` says it went out. */
  submit(text: string, taken: () => boolean): Promise<void>;
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function startTuiPane(
  dir: string,
  argv: readonly string[],
  env: Record<string, string>,
  cwd: string,
): Promise<BenchPane> {
  const socket = `cp-bench-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const script = path.join(dir, `${socket}.sh`);
  const pidFile = path.join(dir, `${socket}.pid`);
  const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
  const exports = Object.entries({ ...env, TERM: "xterm-256color" })
    .map(([k, v]) => `export ${k}=${q(v)}`)
    .join("\n");
  await fs.writeFile(
    script,
    `#!/bin/sh\n${exports}\ncd ${q(cwd)}\necho $$ > ${q(pidFile)}\nexec ${argv.map(q).join(" ")}\n`,
    { mode: 0o700 },
  );
  const tmux = (...a: string[]) => run("tmux", ["-L", socket, ...a]);
  await tmux("new-session", "-d", "-s", "cx", "-x", "160", "-y", "50", `env -i ${script}`);
  let pid = 0;
  await until(
    "the pane to start",
    async () => {
      pid = Number((await fs.readFile(pidFile, "utf8").catch(() => "")).trim());
      return pid > 0;
    },
    10_000,
  );
  const capture = async (): Promise<string> =>
    (await tmux("capture-pane", "-t", "cx", "-p", "-J")).stdout;
  return {
    pid,
    capture,
    waitFor: (text, timeoutMs = 30_000) =>
      until(`the pane to show ${text}`, async () => (await capture()).includes(text), timeoutMs),
    async submit(text, taken) {
      await tmux("send-keys", "-t", "cx", "-l", text);
      await until("the prompt to be typed", async () => (await capture()).includes(text), 10_000);
      let last = 0;
      await until(
        `"${text}" to be submitted`,
        async () => {
          if (taken()) return true;
          if (Date.now() - last > 1000) {
            last = Date.now();
            await tmux("send-keys", "-t", "cx", "Enter");
          }
          return false;
        },
        30_000,
      );
    },
    async [Symbol.asyncDispose]() {
      await tmux("kill-server").catch(() => undefined);
    },
  };
}
