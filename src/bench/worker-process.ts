/**
 * A worker the bench and the tests drive as a separate OS process (a "machine"): it is spoken to
 * line by line on stdin and answers line by line on stdout, and everything it says is kept so a
 * caller can wait for a line. Always the built worker (`dist/bench/<name>.js`), whether this
 * module runs built (bench) or from source (tests).
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** The built worker script `name` (e.g. "session-worker"). */
export function builtWorker(name: string): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), `../../dist/bench/${name}.js`);
}

export class WorkerProcess {
  readonly child: ChildProcessWithoutNullStreams;
  private out = "";
  private err = "";
  private readonly waiters: { test: () => boolean; resolve: () => void }[] = [];
  readonly exited: Promise<number | null>;

  constructor(script: string, args: readonly string[], env: Record<string, string>) {
    this.child = spawn(process.execPath, [script, ...args], {
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

  /** Resolves once stdout holds `text` (rejects if the process ends first). */
  waitFor(text: string): Promise<void> {
    return this.until(() => this.out.includes(text), `"${text}"`);
  }

  /** Resolves once `test` holds of what it printed (rejects if the process ends first). */
  protected until(test: () => boolean, what: string): Promise<void> {
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

  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGKILL");
    await this.exited;
  }
}
