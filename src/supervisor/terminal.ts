/**
 * Keeps the user's terminal sane across codex restarts. A TUI stopped with SIGTERM dies without
 * restoring its terminal (CODEX_CLI.md §5.3: "the terminal may need stty sane"); the next codex
 * would then save that raw state as "the user's" and restore it on exit, leaving echo off and
 * stair-stepped output. So the settings are saved with `stty -g` before the first launch and put
 * back after every child exits, before the next one starts.
 */
import { spawn } from "node:child_process";

export interface TerminalGuard {
  /** Puts the saved settings back; never throws (a terminal that went away is not our error). */
  restore(): Promise<void>;
}

function stty(args: string[]): Promise<string | null> {
  return new Promise((resolve) => {
    let out = "";
    let child;
    try {
      // stty works on its standard input: give it our terminal.
      child = spawn("stty", args, { stdio: ["inherit", "pipe", "ignore"] });
    } catch {
      resolve(null);
      return;
    }
    child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
    child.on("error", () => resolve(null));
    child.on("close", (code) => resolve(code === 0 ? out.trim() : null));
  });
}

/** Saves the terminal's settings, or returns null when stdin is not a terminal. */
export async function saveTerminal(
  stdin: { isTTY?: boolean } = process.stdin,
): Promise<TerminalGuard | null> {
  if (stdin.isTTY !== true) return null;
  const saved = await stty(["-g"]);
  if (saved === null || saved === "") return null;
  return {
    async restore() {
      await stty([saved]);
    },
  };
}
