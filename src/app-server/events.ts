/**
 * What the live controller reports to the supervisor (docs/codex-app-server.md §3, §7): turns,
 * the usage-limit error, rate limits, account changes, clients coming and going, and the
 * app-server's death. Ephemeral threads (the TUI's title turn) are flagged so a consumer can
 * tell them from the user's turns.
 */
import type { ChildOutcome } from "../codex/spawn.js";
import type { CloseInfo } from "./relay-connection.js";
import {
  errorInfoName,
  USAGE_LIMIT_ERROR,
  type AppServerRateLimits,
  type KnownNotification,
} from "./messages.js";

export interface TurnFailure {
  readonly message: string;
  /** codex's error class, e.g. "usageLimitExceeded", "unauthorized", "other". */
  readonly codexErrorInfo: string | null;
}

export type LiveEvent =
  /** A client (the TUI: "codex-tui", exec: "codex_exec") attached and was answered. */
  | { type: "attached"; client: string | null }
  /** An attached client's connection ended (`by` says who closed it first). */
  | { type: "detached"; client: string | null; by: CloseInfo["by"]; code: number }
  /** The session thread (non-ephemeral) a client started, resumed or forked became known. */
  | { type: "sessionThread"; threadId: string; client: string | null }
  | { type: "turnStarted"; threadId: string; turnId: string; ephemeral: boolean }
  | {
      type: "turnCompleted";
      threadId: string;
      turnId: string;
      ephemeral: boolean;
      /** "completed", "failed", "interrupted" (or what a newer codex says). */
      status: string;
      error: TurnFailure | null;
    }
  | {
      type: "turnError";
      threadId: string;
      turnId: string;
      failure: TurnFailure;
      willRetry: boolean;
      /** codexErrorInfo is usageLimitExceeded: the account is out of quota. */
      usageLimit: boolean;
    }
  | { type: "rateLimits"; rateLimits: AppServerRateLimits }
  /** The app-server now holds this account: logged in on attach, by login(), or by a refresh. */
  | { type: "accountApplied"; chatgptAccountId: string; via: "attach" | "login" | "refresh" }
  | { type: "loginFailed"; chatgptAccountId: string; message: string }
  | { type: "refreshFailed"; previousAccountId: string | null; message: string }
  /** A notification we rely on did not have the shape we know (a newer codex?). */
  | { type: "malformed"; method: string; detail: string }
  /** Something of ours failed and the relay carried on (reported, nothing lost). */
  | { type: "failure"; message: string }
  | { type: "appServerExited"; outcome: ChildOutcome };

export type LiveEventListener = (event: LiveEvent) => void;

function failureOf(error: {
  message: string;
  codexErrorInfo?: string | Record<string, unknown> | null;
}): TurnFailure {
  return { message: error.message, codexErrorInfo: errorInfoName(error.codexErrorInfo) };
}

/** The event a notification becomes, if any. */
export function eventOf(
  n: KnownNotification,
  isEphemeral: (threadId: string) => boolean,
): LiveEvent | null {
  switch (n.method) {
    case "turn/started":
      return {
        type: "turnStarted",
        threadId: n.params.threadId,
        turnId: n.params.turn.id,
        ephemeral: isEphemeral(n.params.threadId),
      };
    case "turn/completed": {
      const error = n.params.turn.error;
      return {
        type: "turnCompleted",
        threadId: n.params.threadId,
        turnId: n.params.turn.id,
        ephemeral: isEphemeral(n.params.threadId),
        status: n.params.turn.status,
        error: error === null || error === undefined ? null : failureOf(error),
      };
    }
    case "error": {
      const failure = failureOf(n.params.error);
      return {
        type: "turnError",
        threadId: n.params.threadId,
        turnId: n.params.turnId,
        failure,
        willRetry: n.params.willRetry,
        usageLimit: failure.codexErrorInfo === USAGE_LIMIT_ERROR,
      };
    }
    case "account/rateLimits/updated":
      return { type: "rateLimits", rateLimits: n.params.rateLimits };
    case "account/updated":
    case "thread/started":
      return null;
  }
}
