/**
 * stdout is the product, stderr is diagnostics (docs/style.md rule 20). Everything printed passes
 * through here: colour only on a TTY and never with NO_COLOR, and every line redacted. With
 * `--json` diagnostics are silent and the product is held until `commit()`, so a command that
 * fails leaves stdout empty and stderr holding only its JSON error (src/cli/failure.ts).
 */
import type { Writable } from "node:stream";
import type { Env } from "../platform/paths.js";
import { redact } from "../platform/redact.js";

export type Colour = "red" | "green" | "yellow" | "cyan" | "dim" | "bold";

const CODES: Record<Colour, [number, number]> = {
  red: [31, 39],
  green: [32, 39],
  yellow: [33, 39],
  cyan: [36, 39],
  dim: [2, 22],
  bold: [1, 22],
};

export class Output {
  readonly stdout: Writable & { isTTY?: boolean; columns?: number };
  readonly stderr: Writable & { isTTY?: boolean };
  readonly colour: boolean;
  readonly interactive: boolean;
  readonly jsonMode: boolean;
  /** With --json: the product, written by commit(). */
  private held: string[] = [];

  constructor(
    stdout: Writable & { isTTY?: boolean; columns?: number },
    stderr: Writable & { isTTY?: boolean },
    colour: boolean,
    interactive: boolean,
    jsonMode = false,
  ) {
    this.stdout = stdout;
    this.stderr = stderr;
    this.colour = colour && !jsonMode;
    this.interactive = interactive;
    this.jsonMode = jsonMode;
  }

  static fromProcess(env: Env, options: { json?: boolean } = {}): Output {
    const noColor = env["NO_COLOR"] !== undefined && env["NO_COLOR"] !== "";
    const tty = process.stdout.isTTY === true;
    return new Output(
      process.stdout,
      process.stderr,
      tty && !noColor && env["TERM"] !== "dumb",
      tty && process.stdin.isTTY === true,
      options.json === true,
    );
  }

  private product(text: string): void {
    if (this.jsonMode) this.held.push(text);
    else this.stdout.write(text);
  }

  /** Writes the held product of a --json command in one piece (main calls it on success). */
  commit(): void {
    if (this.held.length === 0) return;
    this.stdout.write(this.held.join(""));
    this.held = [];
  }

  paint(colour: Colour, text: string): string {
    if (!this.colour) return text;
    const [open, close] = CODES[colour];
    return `\u001b[${open}m${text}\u001b[${close}m`;
  }

  /** A line of the product on stdout. */
  line(text = ""): void {
    this.product(redact(text) + "\n");
  }

  json(value: unknown): void {
    this.product(redact(JSON.stringify(value, null, 2)) + "\n");
  }

  /** A diagnostic line on stderr, prefixed so it is clearly ours; silent with --json. */
  info(text: string): void {
    if (this.jsonMode) return;
    this.stderr.write(redact(`codex-pool: ${text}`) + "\n");
  }

  error(text: string): void {
    if (this.jsonMode) return;
    this.stderr.write(redact(`codex-pool: ${text}`) + "\n");
  }

  /** A progress line that rewrites itself on a terminal; silent elsewhere and with --json. */
  progress(text: string): void {
    if (this.stderr.isTTY !== true || this.jsonMode) return;
    this.stderr.write(`\r\u001b[2K${redact(text)}`);
  }

  clearProgress(): void {
    if (this.stderr.isTTY === true && !this.jsonMode) this.stderr.write("\r\u001b[2K");
  }
}

/** Strips ANSI colour codes, for measuring width. */
export function visibleLength(text: string): number {
  return [...text.replace(/\u001b\[[0-9;]*m/g, "")].length;
}

/** A plain left-aligned table with two spaces between columns. */
export function renderTable(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) =>
    Math.max(visibleLength(h), ...rows.map((r) => visibleLength(r[i] ?? ""))),
  );
  const fmt = (cells: string[]): string =>
    cells
      .map((c, i) =>
        i === cells.length - 1 ? c : c + " ".repeat((widths[i] ?? 0) - visibleLength(c)),
      )
      .join("  ")
      .trimEnd();
  return [fmt(header), ...rows.map(fmt)];
}
