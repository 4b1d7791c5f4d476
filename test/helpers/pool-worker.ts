/** Drives test/fixtures/pool-worker.mjs (the built store in a real child process). */
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { ROOT } from "./cli.js";

export const WORKER = path.join(ROOT, "test/fixtures/pool-worker.mjs");

export interface Worker {
  child: ChildProcess;
  /** Resolves with all stdout once the child has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string }>;
  /** Resolves when stdout has shown `text` (rejects if the child exits first). */
  waitFor(text: string): Promise<void>;
}

export function startWorker(args: string[], env: Record<string, string> = {}): Worker {
  const child = spawn(process.execPath, [WORKER, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...env },
  });
  let stdout = "";
  let stderr = "";
  const waiters: { text: string; resolve: () => void; reject: (e: Error) => void }[] = [];
  child.stdout.setEncoding("utf8").on("data", (d: string) => {
    stdout += d;
    for (const w of waiters.filter((x) => stdout.includes(x.text))) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve();
    }
  });
  child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
  const exited = new Promise<{
    code: number | null;
    signal: NodeJS.Signals | null;
    stdout: string;
  }>((resolve, reject) => {
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      for (const w of waiters.splice(0)) {
        w.reject(new Error(`worker exited (${code ?? signal}) before "${w.text}": ${stderr}`));
      }
      resolve({ code, signal, stdout });
    });
  });
  return {
    child,
    exited,
    waitFor(text) {
      if (stdout.includes(text)) return Promise.resolve();
      return new Promise((resolve, reject) => waiters.push({ text, resolve, reject }));
    },
  };
}

/** SIGKILLs the worker and waits until it is reaped (a zombie would still answer kill(pid, 0)). */
export async function killWorker(worker: Worker): Promise<void> {
  if (worker.child.exitCode === null && worker.child.signalCode === null) {
    worker.child.kill("SIGKILL");
  }
  await worker.exited;
}
