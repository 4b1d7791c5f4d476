/**
 * Change notifications of one file (inotify through `fs.watch`), for the tail of a bound rollout
 * (watch.ts): a line codex writes wakes the tail at once instead of at its next poll, so the end
 * of a turn is seen as it is written. Where notifications are missing (unsupported, or failed),
 * the wait is the poll's timeout alone. Apart from watch.ts because it is about the file system,
 * not the rollout: nothing here reads the file.
 */
import fs from "node:fs";
import type { Clock } from "../platform/clock.js";

export interface FileChanges {
  /** Settles at the next change of the file since the last call, after `ms` at most, or on abort. */
  next(ms: number, signal: AbortSignal): Promise<void>;
  close(): void;
}

/** Change notifications of `file`; without them (unsupported, or failed) only the timeout. */
export function watchChanges(file: string, clock: Clock): FileChanges {
  let changed = false;
  let wake: (() => void) | null = null;
  let watcher: fs.FSWatcher | null = null;
  const onChange = (): void => {
    changed = true;
    wake?.();
  };
  try {
    // Not persistent: watching must never keep the process alive.
    watcher = fs.watch(file, { persistent: false }, onChange);
    watcher.on("error", () => watcher?.close());
  } catch {
    watcher = null;
  }
  return {
    async next(ms, signal) {
      if (!changed && !signal.aborted) {
        await new Promise<void>((resolve) => {
          const done = (): void => {
            timer.cancel();
            signal.removeEventListener("abort", done);
            wake = null;
            resolve();
          };
          const timer = clock.setTimer(done, ms, { weak: true });
          signal.addEventListener("abort", done, { once: true });
          wake = done;
        });
      }
      changed = false;
    },
    close() {
      watcher?.close();
    },
  };
}
