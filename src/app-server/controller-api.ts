/**
 * What the supervisor holds of the live controller (controller.ts): how a codex client attaches,
 * logging an account in between turns, starting the continuation's turn, and the events
 * (docs/codex-app-server.md §7).
 */
import type { AppServer } from "./launcher.js";
import type { LiveEventListener } from "./events.js";
import type { RefreshRequest, SuppliedAccount } from "./messages.js";

/** The variable a codex client reads the relay's token from (`--remote-auth-token-env`). */
export const RELAY_TOKEN_ENV = "CODEX_POOL_RELAY_TOKEN";

export type RefreshCallback = (request: RefreshRequest) => Promise<SuppliedAccount>;

export interface LiveControllerOptions {
  /** The running app-server (launchAppServer). */
  appServer: Pick<AppServer, "url" | "token" | "exited">;
  /** The account every attaching client's session starts with. */
  account: SuppliedAccount;
  /** Fresh tokens after a 401: the same account refreshed, or the next one. */
  refresh: RefreshCallback;
}

export interface LiveControllerApi {
  /** How a codex client attaches: argv to add, and the env entry holding the token. */
  attachArgs(): string[];
  attachEnv(): Record<string, string>;
  /** Hands the app-server `account`. "deferred": no client is attached; the next one gets it. */
  login(account: SuppliedAccount): Promise<"applied" | "deferred">;
  /** A turn runs (or its turn/start is on its way) on any attached client's connection. */
  turnRunning(): boolean;
  /**
   * Resolves once no turn runs (at once if none does). After a user turn the TUI may still be
   * generating its title on an ephemeral thread (docs/codex-app-server.md §8).
   */
  idle(): Promise<void>;
  /** Starts a turn on `threadId` (default: the session's); resolves once turn/started confirms it. */
  startTurn(text: string, threadId?: string): Promise<{ threadId: string; turnId: string }>;
  /** The user's session thread (non-ephemeral), once a client started or resumed one. */
  sessionThreadId(): string | null;
  /**
   * Shows `message` among the attached client's warnings (a `warning` notification of ours in its
   * stream). false when no client is attached to show it.
   */
  notifyUser(message: string): boolean;
  /** The ChatGPT account id the app-server holds, as far as we told it. */
  currentAccountId(): string | null;
  on(listener: LiveEventListener): () => void;
  /** Closes the relay and every client connection (the app-server is its owner's to stop). */
  close(): Promise<void>;
}
