/** What can go wrong between us and codex's app-server, each a CodexPoolError with one clear line. */
import { CodexPoolError } from "../platform/errors.js";
import type { RpcError } from "./jsonrpc.js";

/** The app-server or a connection to it failed (could not start, closed, refused us). */
export class AppServerError extends CodexPoolError {}

/** The app-server answered one of our requests with a JSON-RPC error. */
export class RpcCallError extends AppServerError {
  readonly method: string;
  readonly code: number;
  constructor(method: string, error: RpcError) {
    // codex's own text about our request (it does not echo the params, observed on 0.171), cut
    // short: an unknown method is answered with the list of every method it knows.
    const text = error.message.length > 200 ? `${error.message.slice(0, 200)}…` : error.message;
    super(`codex app-server refused ${method}: ${text} (code ${error.code})`);
    this.method = method;
    this.code = error.code;
  }
}

/** A login or a continuation was asked for while a turn runs: refused, nothing was sent. */
export class TurnRunningError extends AppServerError {}

/** Nothing is attached to the relay, so there is no connection to act on. */
export class NotAttachedError extends AppServerError {}
