/**
 * What the app-server's events (src/app-server/events.ts) do to a live session (live.ts): turns
 * and the usage limit go to the machine in order (live-turns.ts), rate limits to the account's
 * quota, the session's thread binds it (and lets a pending continuation out), and lines worth
 * telling are kept for the user. When live mode cannot go on, the session is handed to the
 * caller to resume by relaunching (`broken`, src/supervisor/switcher.ts):
 * - the first login refused before codex ever saw the server (its connection was closed): the
 *   same start runs by relaunching instead;
 * - the app-server gone: a TUI would keep "Reconnecting…" for ever (docs/codex-app-server.md §8),
 *   so it is stopped and the session resumed; `exec` ends by itself, its end reported with why.
 */
import type { LiveEvent } from "../app-server/events.js";
import type { LiveAccount } from "./live-account.js";
import type { LiveTurns } from "./live-turns.js";
import type { Broken, LiveClient, LiveDeps, LiveState } from "./live-types.js";
import type { StartRequest } from "./session-ports.js";
import { stopChild } from "./stop-child.js";

export interface LiveEventsDeps {
  readonly tui: boolean;
  readonly state: LiveState;
  readonly turns: LiveTurns;
  readonly account: LiveAccount;
  readonly deps: Pick<LiveDeps, "killGraceMs" | "clock" | "report">;
  readonly broken: Broken;
  /** Submits the continuation as a turn (live-continuation.ts). */
  continueSession(text: string): void;
  /** A line for the user after codex exits, said once. */
  reportOnce(line: string): void;
}

export function liveEventHandler(ctx: LiveEventsDeps): (event: LiveEvent) => void {
  const { state, turns, account, deps } = ctx;

  /** Stops `running` without reporting its end, then hands `request` over to relaunching. */
  const handOver = (running: LiveClient, reason: string, request: () => StartRequest): void => {
    running.quiet = true;
    void stopChild(running.child, { graceMs: deps.killGraceMs, clock: deps.clock })
      .then(() => running.done)
      .then(() => ctx.broken(reason, request()));
  };

  const serverGone = (reason: string): void => {
    if (state.dead || state.closing) return;
    state.dead = true;
    account.stop();
    const running = state.client;
    if (running === null) return; // the next start or move finds it dead and falls back
    if (!ctx.tui) {
      const bound = state.bound;
      deps.report.add(
        `${reason}${bound !== null ? `; continue with \`codex-pool run -- exec resume ${bound} "…"\`` : ""}`,
      );
      return;
    }
    if (turns.abandon()) turns.inOrder({ type: "turnEnded", limitHit: false });
    handOver(running, reason, () => {
      const sessionId = state.bound ?? running.request.sessionId;
      return {
        account: account.current ?? running.account,
        sessionId,
        resume: sessionId === null ? null : { sessionId, continuation: false },
      };
    });
  };

  return (event) => {
    if (state.closing) return;
    switch (event.type) {
      case "attached":
        state.attachedOnce = true;
        return;
      case "loginFailed": {
        const running = state.client;
        if (state.attachedOnce || running === null) {
          ctx.reportOnce(`codex app-server refused the account: ${event.message}`);
          return;
        }
        state.dead = true;
        handOver(
          running,
          `codex app-server refused the login: ${event.message}`,
          () => running.request,
        );
        return;
      }
      case "appServerExited":
        serverGone(
          `codex app-server exited (${event.outcome.signal ?? `exit ${event.outcome.exitCode}`})`,
        );
        return;
      case "sessionThread":
        if (event.threadId !== state.bound) {
          state.bound = event.threadId;
          turns.inOrder({ type: "bound", sessionId: event.threadId });
        }
        if (state.pendingContinuation !== null) {
          const text = state.pendingContinuation;
          state.pendingContinuation = null;
          ctx.continueSession(text);
        }
        return;
      case "turnStarted":
        turns.started(event.turnId, event.ephemeral);
        return;
      case "turnError":
        turns.errored(event.turnId, event.usageLimit);
        return;
      case "turnCompleted":
        turns.completed(
          event.turnId,
          event.ephemeral,
          event.error?.codexErrorInfo === "usageLimitExceeded",
        );
        return;
      case "rateLimits":
        account.rateLimitsUpdated(event.rateLimits);
        return;
      case "malformed":
        ctx.reportOnce(
          `codex app-server sent ${event.method} in a shape codex-pool does not know (${event.detail})`,
        );
        return;
      case "refreshFailed":
        ctx.reportOnce(`answering codex's request for fresh tokens: ${event.message}`);
        return;
      case "failure":
      case "detached":
      case "accountApplied":
        return;
    }
  };
}
