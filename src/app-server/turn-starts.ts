/**
 * Which turns `turn/started` confirmed, for whoever started one (the live controller's
 * `startTurn`, docs/codex-app-server.md §3): the notification can come before or after the
 * `turn/start` answer that names the turn, so a confirmation nobody waits for yet is kept for a
 * while (the few most recent are enough).
 */
import { AppServerError } from "./errors.js";

const RECENT_STARTS = 32;

export class TurnStarts {
  /** Turn ids confirmed by turn/started, with whoever waits for one. */
  private readonly waiters = new Map<string, () => void>();
  private readonly started = new Set<string>();

  /** `turn/started` arrived for `turnId`. */
  confirm(turnId: string): void {
    const waiter = this.waiters.get(turnId);
    if (waiter !== undefined) {
      waiter();
      return;
    }
    // Kept in case its turn/start answer is still on its way.
    this.started.add(turnId);
    if (this.started.size > RECENT_STARTS) {
      const oldest = this.started.values().next().value;
      if (oldest !== undefined) this.started.delete(oldest);
    }
  }

  /** Settles once `turnId` is confirmed; rejects when `closed` (its connection) settles first. */
  confirmed(turnId: string, closed: Promise<unknown>): Promise<void> {
    if (this.started.delete(turnId)) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.waiters.set(turnId, () => {
        this.waiters.delete(turnId);
        resolve();
      });
      void closed.then(() => {
        if (!this.waiters.delete(turnId)) return;
        reject(new AppServerError("the connection closed before the turn started"));
      });
    });
  }
}
