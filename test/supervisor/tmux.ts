/**
 * Driving the codex TUI under tmux (docs/codex-cli.md §6), one private tmux server per test. With
 * `raw`, every byte the pane's programs write to the terminal is kept (tmux `pipe-pane`), from the
 * very first: the command waits on a FIFO until the pipe is in place.
 */
import { execFile } from "node:child_process";
import fs from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { CLI } from "../helpers/cli.js";
import { allGone, processTree } from "../helpers/processes.js";
import { eventually } from "./e2e-helpers.js";

const run = promisify(execFile);

export const haveTmux = await run("tmux", ["-V"]).then(
  () => true,
  () => false,
);

export interface Pane extends AsyncDisposable {
  capture(): Promise<string>;
  type(text: string): Promise<void>;
  enter(): Promise<void>;
  /** Presses a named key (tmux send-keys names: "F2", "Escape", "C-c"). */
  key(name: string): Promise<void>;
  /** Resolves with the pane's text once it contains `what` (or `what(text)` holds). */
  waitFor(what: string | RegExp | ((text: string) => boolean), timeoutMs?: number): Promise<string>;
  /** The exit code the wrapped command wrote when it ended (null with `exec`, or still running). */
  exitCode(): Promise<number | null>;
  /** Waits for the wrapped command to end (its code is written after its last output). */
  exited(timeoutMs?: number): Promise<number>;
  /** Everything written to the terminal so far (only with `raw`). */
  raw(): Promise<Buffer>;
  /** The pid of the pane's command (with `exec`, the command itself; else the shell running it). */
  pid(): Promise<number>;
}

export interface PaneOptions {
  /** Keep every byte written to the terminal (see `Pane.raw`). */
  readonly raw?: boolean;
  /** The shell execs the command in place (its pid is the pane's pid; no exit code is kept). */
  readonly exec?: boolean;
  /** TERM for the command (default: none, as `env -i` leaves it). */
  readonly term?: string;
}

/** Starts `argv` in a detached tmux session with exactly `env`, in `cwd`; files go to `dir`. */
export async function startCommand(
  dir: string,
  argv: readonly string[],
  env: Record<string, string>,
  cwd: string,
  options: PaneOptions = {},
): Promise<Pane> {
  const socket = `cp-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const script = path.join(dir, `${socket}.sh`);
  const codeFile = path.join(dir, `${socket}.code`);
  const pidFile = path.join(dir, `${socket}.pid`);
  const rawFile = path.join(dir, `${socket}.raw`);
  const gate = path.join(dir, `${socket}.gate`);
  const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
  if (options.raw === true) await run("mkfifo", ["-m", "600", gate]);
  const wait = options.raw === true ? `read _ < ${q(gate)}\n` : "";
  const all = options.term !== undefined ? { ...env, TERM: options.term } : env;
  const exports = Object.entries(all)
    .map(([k, v]) => `export ${k}=${q(v)}`)
    .join("\n");
  const command = argv.map(q).join(" ");
  const body =
    options.exec === true
      ? `exec ${command}\n`
      : `${command}\necho $? > ${q(codeFile)}\nsleep 600\n`;
  await fs.writeFile(
    script,
    `#!/bin/sh\n${wait}${exports}\ncd ${q(cwd)}\necho $$ > ${q(pidFile)}\n${body}`,
    { mode: 0o700 },
  );
  const tmux = (...a: string[]) =>
    run("tmux", ["-L", socket, ...a], { env: { ...env, TERM: "xterm-256color" } });
  await tmux("new-session", "-d", "-s", "cx", "-x", "160", "-y", "50", `env -i ${script}`);
  if (options.raw === true) {
    await tmux("pipe-pane", "-t", "cx", "-o", `cat >> ${q(rawFile)}`);
    await fs.writeFile(gate, "go\n"); // the pipe is in place: let the command start
  }
  const exitCode = async (): Promise<number | null> => {
    const text = await fs.readFile(codeFile, "utf8").catch(() => "");
    return text.trim() === "" ? null : Number(text.trim());
  };
  let last = "";
  const capture = async (): Promise<string> => {
    try {
      last = (await tmux("capture-pane", "-t", "cx", "-p", "-J", "-S", "-300")).stdout;
    } catch (error) {
      if (last === "") throw error;
      // The tmux server is gone (disposed): what it showed last is what a report needs.
    }
    return last;
  };
  return {
    capture,
    type: async (text) => void (await tmux("send-keys", "-t", "cx", "-l", text)),
    enter: async () => void (await tmux("send-keys", "-t", "cx", "Enter")),
    key: async (name) => void (await tmux("send-keys", "-t", "cx", name)),
    waitFor: (what, timeoutMs = 30_000) =>
      eventually(
        `the pane to show ${typeof what === "function" ? "the expected text" : String(what)}`,
        async () => {
          const text = await capture();
          const hit =
            typeof what === "string"
              ? text.includes(what)
              : typeof what === "function"
                ? what(text)
                : what.test(text);
          return hit ? text : null;
        },
        timeoutMs,
        200,
      ),
    raw: () => fs.readFile(rawFile),
    exitCode,
    exited: (timeoutMs = 30_000) => eventually("the command to exit", exitCode, timeoutMs),
    pid: async () =>
      eventually("the pane's pid", async () => {
        const text = await fs.readFile(pidFile, "utf8").catch(() => "");
        return text.trim() === "" ? null : Number(text.trim());
      }),
    async [Symbol.asyncDispose]() {
      // The pane's processes get SIGHUP and may still be cleaning up (codex-pool stops codex and
      // its app-server, and writes to its pool home): wait for them, so a test's directory is
      // removed only after nothing writes to it any more.
      const root = Number((await fs.readFile(pidFile, "utf8").catch(() => "")).trim());
      const tree = root > 0 ? await processTree(root) : [];
      await tmux("kill-server").catch(() => undefined);
      if (!(await allGone(tree, 20_000))) {
        for (const pid of tree) {
          try {
            process.kill(pid, "SIGKILL");
          } catch {
            // Ended meanwhile.
          }
        }
        throw new Error(`the pane's processes outlived SIGHUP by 20 s: ${tree.join(", ")}`);
      }
    },
  };
}

/** Starts `codex-pool <args>` in a detached tmux session with exactly `env`. */
export function startPane(
  dir: string,
  args: string[],
  env: Record<string, string>,
  cwd: string,
  options: PaneOptions = {},
): Promise<Pane> {
  return startCommand(dir, [process.execPath, CLI, ...args], env, cwd, options);
}

/**
 * Types a prompt into the codex TUI and submits it. The TUI treats Enter right after fast typing as
 * part of a paste, so Enter is repeated (about once a second) until the simulator has seen one more
 * turn request (`turnCount`).
 */
export async function submitPrompt(
  pane: Pick<Pane, "type" | "enter" | "waitFor">,
  text: string,
  turnCount: () => number,
): Promise<void> {
  const before = turnCount();
  await pane.type(text);
  await pane.waitFor(text);
  let last = 0;
  await eventually(
    `"${text}" to be submitted`,
    async () => {
      if (turnCount() > before) return true;
      if (Date.now() - last > 1000) {
        last = Date.now();
        await pane.enter();
      }
      return false;
    },
    30_000,
  );
}
