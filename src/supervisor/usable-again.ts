/**
 * The pool-exhausted wait's early wake (docs/decisions.md decision 7; docs/team-pool.md "Changes
 * across machines"). While every account is out, the countdown runs to the earliest reset; but
 * another machine may meanwhile store a quota observation that shows room (its session saw a window
 * reset early, its `status` checked), a seat may be signed in again, or an account added. The
 * store's change subscription (LISTEN/NOTIFY on PostgreSQL, else a version poll; the file's poll)
 * cues a re-read, and the wait ends once selection finds an account usable in what was read. Every
 * other change (heartbeats, a probe that found nothing new) only costs a read.
 */
import type { Clock } from "../platform/clock.js";
import { CancelledError } from "../platform/errors.js";
import { selectAccounts, type SelectionFloors } from "../pool/select.js";
import type { PoolStore, StoreSubscription } from "../pool/store.js";

export interface UsableAgainDeps {
  readonly store: PoolStore;
  readonly clock: Pick<Clock, "now">;
  readonly floors: SelectionFloors;
  /** How often to look where the store cannot push (its own default when absent). */
  readonly pollMs?: number;
}

/**
 * Settles once the pool (read after a change, and once at the start) has a usable account, as the
 * after-wait selection judges it: nothing excluded, busy accounts included. Rejects with
 * CancelledError once `signal` aborts, or with the store's error when it cannot be watched.
 */
export function usableAgain(deps: UsableAgainDeps, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let subscription: StoreSubscription | null = null;
    let finished = false;
    let checking = false;
    let again = false;
    const finish = (settle: () => void): void => {
      if (finished) return;
      finished = true;
      signal.removeEventListener("abort", onAbort);
      // Closing a subscription loses nothing: it only stops the cues.
      void subscription?.close().catch(() => undefined);
      settle();
    };
    const onAbort = (): void => finish(() => reject(new CancelledError("stopped waiting")));
    const usable = async (): Promise<boolean> => {
      const pool = await deps.store.read();
      const now = new Date(deps.clock.now());
      return selectAccounts(pool.accounts, { floors: deps.floors, now }).chosen !== null;
    };
    // One read at a time; a cue during a read asks for one more after it.
    const look = (): void => {
      if (finished) return;
      if (checking) {
        again = true;
        return;
      }
      checking = true;
      usable()
        .then((yes) => {
          if (yes) finish(resolve);
        })
        // A failed read loses nothing: the next cue, or the reset's own timer, looks again.
        .catch(() => undefined)
        .finally(() => {
          checking = false;
          if (again) {
            again = false;
            look();
          }
        });
    };
    if (signal.aborted) {
      onAbort();
      return;
    }
    signal.addEventListener("abort", onAbort, { once: true });
    void deps.store.subscribe(look, deps.pollMs === undefined ? {} : { pollMs: deps.pollMs }).then(
      (s) => {
        if (finished) void s.close().catch(() => undefined);
        else {
          subscription = s;
          look(); // a change that landed before the subscription started
        }
      },
      (error: unknown) =>
        finish(() => reject(error instanceof Error ? error : new Error(String(error)))),
    );
  });
}
