/**
 * Gives the user's terminal back after each codex TUI, before the next one starts and at the end.
 *
 * What codex 0.169's TUI turns on, read from the bytes it writes (tmux `pipe-pane`, see
 * docs/supervisor.md "terminal"): at start-up bracketed paste (`CSI ?2004h`), focus reporting
 * (`CSI ?1004h`), one kitty keyboard level pushed on the main screen (`CSI >7u`), the alternate
 * screen (`CSI ?1049h`), a second kitty level pushed there, mouse reporting (`CSI ?1000h ?1002h
 * ?1003h ?1006h`), a hidden cursor, and its title (OSC 0). Its own exit undoes all of it; a codex
 * stopped with a signal undoes nothing (docs/codex-cli.md §5.3: "the terminal may need stty sane"),
 * and kitty-protocol terminals (kitty, WezTerm, foot, Ghostty) then keep sending CSI-u keys to the
 * shell, which `stty sane` does not fix. So after a codex that died of a signal we write what its
 * exit would have: end a half-drawn synchronized frame, mouse off, pop the alternate screen's
 * kitty level, leave the alternate screen (which puts the cursor back where codex found it), pop
 * the main screen's level, bracketed paste and focus reporting off, cursor shape and visibility
 * back, title cleared. After a codex that exited by itself only the modes that never move the
 * cursor are turned off again (it popped its own levels; a second `CSI ?1049l` would move the
 * cursor back over its last lines).
 *
 * Then the tty settings saved with `stty -g` before the first launch are put back (a killed TUI
 * leaves the line discipline raw, and the next codex would save that as "the user's"), and input
 * still pending — keys typed during the hand-over, the terminal's answers to codex's start-up
 * queries — is read and dropped, so the next codex does not take it for typing.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";

const CSI = "\u001b[";
const OSC = "\u001b]";

/** Modes that do not move the cursor: safe to turn off again whoever turned them on. */
const MODES_OFF = [
  `${CSI}?1006l${CSI}?1015l${CSI}?1003l${CSI}?1002l${CSI}?1000l`, // mouse reporting
  `${CSI}?2004l`, // bracketed paste
  `${CSI}?1004l`, // focus reporting
  `${CSI}?25h`, // cursor visible
].join("");

/** What codex's own exit writes, for a codex that died without writing it. */
const AFTER_KILL = [
  `${CSI}?2026l`, // a synchronized update left open would freeze the display
  `${CSI}0m`,
  `${CSI}?1006l${CSI}?1015l${CSI}?1003l${CSI}?1002l${CSI}?1000l`,
  `${CSI}<u`, // the kitty level pushed on the alternate screen
  `${CSI}?1049l`, // back to the main screen and the cursor saved on entry
  `${CSI}<u`, // the kitty level pushed on the main screen
  `${CSI}?2004l`,
  `${CSI}?1004l`,
  `${CSI}0 q`, // default cursor shape
  `${CSI}?25h`,
  `${OSC}0;\u0007`, // the title codex set
  `${OSC}7501;state=clear\u001b\\`, // codex's own activity state, cleared as its exit does
].join("");

/** The bytes that undo codex's terminal modes; `killed`: it died of a signal, undoing nothing. */
export function terminalReset(killed: boolean): string {
  return killed ? AFTER_KILL : MODES_OFF;
}

export interface TerminalIo {
  readonly stdin: { readonly isTTY?: boolean };
  /** Writes to the terminal codex draws on (our stdout when it is a terminal). */
  write(bytes: string): void;
  /** The terminal's input file descriptor (0). */
  readonly inputFd?: number;
}

export interface TerminalControl {
  /** After a codex TUI ended: undo its modes, restore the tty settings, drop pending input. */
  afterCodex(killed: boolean): Promise<void>;
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

/**
 * Reads and drops whatever input the terminal holds. The terminal is set to return at once with
 * what it has (`-icanon min 0 time 0`), so a read never waits; the caller restores its settings.
 */
export async function dropPendingInput(fd = 0): Promise<void> {
  if ((await stty(["-icanon", "min", "0", "time", "0"])) === null) return; // not a terminal
  const buf = Buffer.alloc(4096);
  // Bounded: a terminal flooding input must not keep us here.
  for (let i = 0; i < 256; i += 1) {
    let n: number;
    try {
      n = fs.readSync(fd, buf, 0, buf.length, null);
    } catch {
      return; // EAGAIN (non-blocking and empty), or the terminal went away: nothing to drop
    }
    if (n === 0) return;
  }
}

/** Saves the terminal's settings, or returns null when stdin is not a terminal. */
export async function saveTerminal(io: TerminalIo): Promise<TerminalControl | null> {
  if (io.stdin.isTTY !== true) return null;
  const saved = await stty(["-g"]);
  if (saved === null || saved === "") return null;
  return {
    async afterCodex(killed) {
      try {
        io.write(terminalReset(killed));
      } catch {
        // The terminal went away (hung up): there is nothing left to restore on it.
      }
      await dropPendingInput(io.inputFd ?? 0);
      await stty([saved]);
    },
  };
}
