/**
 * The continuation after a turn refused on the usage limit, in live mode (docs/supervisor.md):
 * submitted as a turn of its own with `turn/start` on the session's thread and confirmed by
 * `turn/started` (docs/codex-app-server.md §3), so the TUI shows it as an ordinary turn. It is
 * missed when the app-server refuses it (e.g. the user's own turn got there first) or its turn
 * does not start within continuationTimeoutSeconds: the machine then judges what is left.
 */
import type { LiveControllerApi } from "../app-server/controller.js";
import type { Clock } from "../platform/clock.js";
import { errorMessage } from "../platform/errors.js";

export interface ContinuationDeps {
  readonly clock: Clock;
  readonly timeoutMs: number;
  /** The continuation did not become a turn. */
  missed(): void;
  /** Why the app-server refused it (said to the user once). */
  refused(message: string): void;
  /** The port is closing: a refusal then says nothing. */
  closing(): boolean;
}

export function sendContinuation(
  controller: Pick<LiveControllerApi, "startTurn">,
  text: string,
  deps: ContinuationDeps,
): void {
  let settled = false;
  const timer = deps.clock.setTimer(
    () => {
      if (settled) return;
      settled = true;
      deps.missed();
    },
    deps.timeoutMs,
    { weak: true },
  );
  controller.startTurn(text).then(
    () => {
      settled = true;
      timer.cancel();
    },
    (error: unknown) => {
      timer.cancel();
      if (settled || deps.closing()) return;
      settled = true;
      deps.refused(`the continuation was not taken: ${errorMessage(error)}`);
      deps.missed();
    },
  );
}
