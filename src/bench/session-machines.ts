/**
 * Drives "machines" running a supervised session on a shared pool (session-worker.ts, built): OS
 * processes, each with its own pool home, on one database. Used by the tests and the bench.
 */
import type { SessionWorkerOptions } from "./session-worker.js";
import { builtWorker, WorkerProcess } from "./worker-process.js";

const WORKER = builtWorker("session-worker");

export type { SessionWorkerOptions };

export class SessionMachine extends WorkerProcess {
  constructor(home: string, env: Record<string, string>, options: SessionWorkerOptions) {
    super(WORKER, [home, JSON.stringify(options)], env);
  }

  /** Codex ends; the session closes its lease; resolves with the session's exit code. */
  async quit(): Promise<string> {
    this.send("exit");
    const done = await this.line("done ");
    await this.exited;
    return done;
  }
}
