/** Small measuring tools for `npm run bench`: medians of repeated runs, child process timings. */
import { spawn } from "node:child_process";
import fs from "node:fs/promises";

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  if (sorted.length === 0) return Number.NaN;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export async function timeIt(fn: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/** Runs a command to completion; rejects on a non-zero exit. */
export function runProcess(
  command: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; input?: string } = {},
): Promise<{ stdout: string; stderr: string; ms: number }> {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(command, args, {
      env: options.env ?? process.env,
      cwd: options.cwd,
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => {
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      if (code === 0) resolve({ stdout, stderr, ms });
      else reject(new Error(`${command} ${args.join(" ")} exited ${code}: ${stderr.slice(-500)}`));
    });
    // A child that exits before reading its stdin (`codex --version`) closes the pipe under us:
    // EPIPE then loses nothing, the exit code still decides.
    child.stdin.on("error", () => undefined);
    child.stdin.end(options.input ?? "");
  });
}

export async function medianOf(runs: number, fn: () => Promise<number>): Promise<number> {
  const values: number[] = [];
  for (let i = 0; i < runs; i += 1) values.push(await fn());
  return median(values);
}

/** Where the bench tells the user what it is doing (stderr, so stdout stays the report's). */
export type Progress = (line: string) => void;

/** One figure of BENCHMARKS.md: the median of `runs`, its target, and whether it is met. */
export interface Figure {
  readonly group: string;
  readonly name: string;
  /** The measured value, formatted (e.g. "92 ms", "1.04×"). */
  readonly value: string;
  /** The target as written in docs/decisions.md (e.g. "≤ 1.1×"), or "reference". */
  readonly target: string;
  /** null: a reference figure without a target. */
  readonly pass: boolean | null;
  readonly runs: number;
  readonly note?: string;
}

export function ms(value: number): string {
  return value >= 100 ? `${Math.round(value)} ms` : `${value.toFixed(1)} ms`;
}

export function ratio(value: number): string {
  return `${value.toFixed(2)}×`;
}

/** VmRSS and VmHWM (peak RSS) of a live process, in bytes; null once it is gone. */
export async function procMemory(pid: number): Promise<{ rss: number; hwm: number } | null> {
  let text: string;
  try {
    text = await fs.readFile(`/proc/${pid}/status`, "utf8");
  } catch {
    return null;
  }
  const kb = (key: string): number => {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(text);
    return m ? Number(m[1]) * 1024 : Number.NaN;
  };
  return { rss: kb("VmRSS"), hwm: kb("VmHWM") };
}

export function mb(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}
