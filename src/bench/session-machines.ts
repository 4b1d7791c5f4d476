/**
 * Drives "machines" running a supervised session on a shared pool (session-worker.ts, built): OS
 * processes, each with its own pool home, on one database. Used by the tests and the bench.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { SessionWorkerOptions } from "./session-worker.js";

/** Always the built worker, whether this module runs built (bench) or from source (tests). */
const WORKER = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  "../../dist/bench/session-worker.js",
);

export type { SessionWorkerOptions };

export class SessionMachine {
  readonly child: ChildProcessWithoutNullStreams;
  private out = "";
  private err = "";
  private readonly waiters: { test: () => boolean; resolve: () => void }[] = [];
  readonly exited: Promise<number | null>;

  constructor(home: string, env: Record<string, string>, options: SessionWorkerOptions) {
    this.child = spawn(process.execPath, [WORKER, home, JSON.stringify(options)], {
      env: { ...process.env, ...env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    this.child.stdout.setEncoding("utf8").on("data", (d: string) => {
      this.out += d;
      for (const w of this.waiters.filter((x) => x.test())) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve();
      }
    });
    this.child.stderr.setEncoding("utf8").on("data", (d: string) => (this.err += d));
    this.exited = new Promise((resolve) => this.child.on("exit", (code) => resolve(code)));
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** Every line it printed so far. */
  lines(): string[] {
    return this.out.split("\n").filter((l) => l !== "");
  }

  /** Resolves with the first line starting with `prefix` (rejects if the process ends first). */
  async line(prefix: string): Promise<string> {
    const find = (): string | undefined => this.lines().find((l) => l.startsWith(prefix));
    await this.until(() => find() !== undefined, `"${prefix}…"`);
    return find() ?? "";
  }

  private until(test: () => boolean, what: string): Promise<void> {
    if (test()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.waiters.push({ test, resolve });
      void this.exited.then((code) => {
        if (!test()) {
          const said = this.lines().join(" | ");
          reject(
            new Error(`machine ${this.pid} exited (${code}) before ${what}: ${said} ${this.err}`),
          );
        }
      });
    });
  }

  send(command: string): void {
    this.child.stdin.write(`${command}\n`);
  }

  /** Codex ends; the session closes its lease; resolves with the session's exit code. */
  async quit(): Promise<string> {
    this.send("exit");
    const done = await this.line("done ");
    await this.exited;
    return done;
  }

  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGKILL");
    await this.exited;
  }
}
