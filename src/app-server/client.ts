/**
 * A connection of our own to an app-server (or to the relay): the handshake, requests with their
 * answers, notifications, and answers to the server's requests. Live mode acts inside the TUI's
 * connection instead (controller.ts, docs/codex-app-server.md §7); this client serves probes and
 * tests. Connecting first would make us the identity the service sees (§4).
 */
import { WebSocket } from "ws";
import { errorMessage } from "../platform/errors.js";
import { AppServerError } from "./errors.js";
import {
  errorText,
  notificationText,
  parseFrame,
  textOf,
  requestText,
  resultText,
  SERVER_ERROR_CODE,
} from "./jsonrpc.js";
import { initializeParams, type ClientInfo } from "./messages.js";
import { PendingCalls } from "./pending.js";

export type NotificationListener = (method: string, params: unknown) => void;
export type ServerRequestAnswerer = (method: string, params: unknown) => Promise<unknown>;

export interface AppServerClient {
  call(method: string, params?: unknown): Promise<unknown>;
  notify(method: string, params?: unknown): void;
  onNotification(listener: NotificationListener): () => void;
  /** Who answers the server's requests; unanswered ones get an error answer. */
  answerServerRequests(answerer: ServerRequestAnswerer): void;
  close(): Promise<void>;
  /** Settles with the close code when the connection ends. */
  readonly closed: Promise<number>;
}

/** Opens the WebSocket; rejects with the HTTP status when the server refuses the upgrade. */
function open(url: string, token: string | null): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> =
      token === null ? {} : { authorization: `Bearer ${token}` };
    const ws = new WebSocket(url, { headers, perMessageDeflate: false });
    ws.once("open", () => resolve(ws));
    ws.once("unexpected-response", (_req, res) => {
      ws.terminate();
      reject(new AppServerError(`${url} refused the connection (HTTP ${res.statusCode})`));
    });
    ws.once("error", (error) =>
      reject(new AppServerError(`cannot connect to ${url}: ${errorMessage(error)}`)),
    );
  });
}

/** Connects and performs the handshake (initialize, then initialized). */
export async function connectClient(
  url: string,
  token: string | null,
  clientInfo: ClientInfo,
): Promise<AppServerClient> {
  const ws = await open(url, token);
  const pending = new PendingCalls();
  const listeners = new Set<NotificationListener>();
  let answerer: ServerRequestAnswerer | null = null;
  const closed = new Promise<number>((resolve) => {
    ws.on("close", (code) => {
      pending.closeAll("the app-server connection closed");
      resolve(code);
    });
  });
  ws.on("error", () => undefined); // the close event follows and fails what was pending
  const send = (text: string): void => {
    if (ws.readyState === WebSocket.OPEN) ws.send(text);
  };
  ws.on("message", (data, binary) => {
    if (binary) return;
    const frame = parseFrame(textOf(data));
    switch (frame.kind) {
      case "result":
        pending.settle(frame.id, { result: frame.result });
        return;
      case "error":
        if (frame.id !== null) pending.settle(frame.id, { error: frame.error });
        return;
      case "notification":
        for (const listener of [...listeners]) listener(frame.method, frame.params);
        return;
      case "request": {
        const answer = answerer?.(frame.method, frame.params);
        if (answer === undefined) {
          send(errorText(frame.id, SERVER_ERROR_CODE, `${frame.method} is not handled here`));
          return;
        }
        answer.then(
          (result) => send(resultText(frame.id, result)),
          () => send(errorText(frame.id, SERVER_ERROR_CODE, `${frame.method} failed`)),
        );
        return;
      }
      case "invalid":
        return;
    }
  });
  const call = (method: string, params?: unknown): Promise<unknown> => {
    const { id, answer } = pending.open(method);
    send(requestText(id, method, params));
    return answer;
  };
  const client: AppServerClient = {
    call,
    notify: (method, params) => send(notificationText(method, params)),
    onNotification(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    answerServerRequests(a) {
      answerer = a;
    },
    async close() {
      if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.close();
      await closed;
    },
    closed,
  };
  try {
    await call("initialize", initializeParams(clientInfo));
    client.notify("initialized");
    return client;
  } catch (error) {
    ws.terminate();
    throw error;
  }
}
