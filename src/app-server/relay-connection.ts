/**
 * One client connection through the relay: the client's WebSocket (the TUI, or `codex exec
 * --remote`) paired with a WebSocket of ours to the app-server. Frames pass both ways byte for
 * byte, in order. Inside that stream we can (docs/codex-app-server.md §7):
 * - send requests of our own, whose answers we take out of the stream (ids: pending.ts);
 * - answer the server's requests we own (the token refresh) instead of the client;
 * - hold the client's initialize answer while we prepare the session (the first login), so the
 *   client never sees an app-server without an account;
 * - hold the client's frames while one of our requests runs (a login), so no turn can start in
 *   between.
 */
import { WebSocket, type RawData } from "ws";
import { errorMessage } from "../platform/errors.js";
import { redact } from "../platform/redact.js";
import { AppServerError } from "./errors.js";
import {
  errorText,
  idKey,
  notificationText,
  parseFrame,
  textOf,
  requestText,
  resultText,
  SERVER_ERROR_CODE,
  type Frame,
} from "./jsonrpc.js";
import { PendingCalls } from "./pending.js";

/**
 * How long a request of ours (a login, a turn/start) may go unanswered. A login takes 40–60 ms
 * and includes codex's own account check with the service (docs/codex-app-server.md §3), so this
 * leaves room for a slow network; past it the call fails, and with it the client's frames held
 * during a login flow again: an app-server that never answers must not freeze the TUI.
 */
export const OUR_REQUEST_TIMEOUT_MS = 30_000;

export type ServerRequestHandler = (params: unknown, conn: RelayConnection) => Promise<unknown>;

export interface RelayHooks {
  /** Server→client requests we answer ourselves, by method; never forwarded to the client. */
  readonly serverRequests: ReadonlyMap<string, ServerRequestHandler>;
  /** Runs while the client's initialize answer is held back. Should not throw. */
  onInitialized?(conn: RelayConnection): Promise<void>;
  /** A frame as it goes to the app-server: the client's, or one of ours (`from: "relay"`). */
  onClientFrame?(frame: Frame, conn: RelayConnection, from: Party): void;
  /** A frame from the app-server as it goes to the client, or an answer to us (`to: "relay"`). */
  onServerFrame?(frame: Frame, conn: RelayConnection, to: Party): void;
  onClose?(conn: RelayConnection, info: CloseInfo): void;
  /** A failure of ours that the relay survived (a hook threw, a refresh answer failed). */
  onError?(conn: RelayConnection, error: Error): void;
}

export type Party = "client" | "relay";

export interface CloseInfo {
  /** Who went first. */
  readonly by: "client" | "app-server" | "relay";
  readonly code: number;
}

export interface UpstreamTarget {
  readonly url: string;
  /** The app-server's capability token. A secret. */
  readonly token: string;
}

type Outgoing = { data: RawData; binary: boolean; frame: Frame | null };

/** Close codes a peer may not send (1005, 1006, 1015) become 1011/1000. */
function sendableCode(code: number, fallback: number): number {
  if (code >= 3000 && code <= 4999) return code;
  if (code >= 1000 && code <= 1014 && ![1004, 1005, 1006].includes(code)) return code;
  return fallback;
}

export class RelayConnection {
  readonly pending = new PendingCalls();
  /** The client's clientInfo.name from its initialize request ("codex-tui", "codex_exec"). */
  clientName: string | null = null;
  private readonly up: WebSocket;
  private readonly down: WebSocket;
  private readonly hooks: RelayHooks;
  /** The client's requests the app-server has not answered: id key → method. */
  private readonly clientInFlight = new Map<string, string>();
  private initializeKey: string | null = null;
  private initialized = false;
  /** Frames from the client waiting for the upstream to open or a hold to end. */
  private readonly waiting: Outgoing[] = [];
  private holds = 0;
  /** Server frames are forwarded one after the other through this chain. */
  private chain: Promise<void> = Promise.resolve();
  private closeInfo: CloseInfo | null = null;
  readonly closed: Promise<CloseInfo>;
  private markClosed!: (info: CloseInfo) => void;

  constructor(down: WebSocket, upstream: UpstreamTarget, hooks: RelayHooks) {
    this.down = down;
    this.hooks = hooks;
    this.closed = new Promise((resolve) => (this.markClosed = resolve));
    // No x-codex-app-server-compression header: frames stay plain JSON text we can read (§7).
    this.up = new WebSocket(upstream.url, {
      headers: { authorization: `Bearer ${upstream.token}` },
      perMessageDeflate: false,
    });
    this.up.on("open", () => this.flush());
    this.up.on("message", (data, binary) => this.fromServer(data, binary));
    this.up.on("close", (code) => this.shut("app-server", code));
    this.up.on("unexpected-response", (_req, res) => {
      this.shut("app-server", 1011, `the app-server refused the relay (HTTP ${res.statusCode})`);
    });
    this.up.on("error", (error) => this.shut("app-server", 1011, errorMessage(error)));
    down.on("message", (data, binary) => this.fromClient(data, binary));
    down.on("close", (code) => this.shut("client", code));
    down.on("error", () => this.shut("client", 1011));
  }

  /** True once the client's initialize was answered (our requests are accepted from then on). */
  get ready(): boolean {
    return this.initialized && this.closeInfo === null;
  }

  /** The client's initialize was answered at some point (it attached), closed or not. */
  get attached(): boolean {
    return this.initialized;
  }

  get isClosed(): boolean {
    return this.closeInfo !== null;
  }

  /** Sends a request of ours to the app-server on this connection; resolves with its result. */
  request(method: string, params: unknown): Promise<unknown> {
    if (this.closeInfo !== null || this.up.readyState !== WebSocket.OPEN) {
      return Promise.reject(new AppServerError(`the app-server connection is closed (${method})`));
    }
    const { id, answer } = this.pending.open(
      method,
      (key) => this.clientInFlight.has(key),
      OUR_REQUEST_TIMEOUT_MS,
    );
    const text = requestText(id, method, params);
    this.hooks.onClientFrame?.({ kind: "request", id, method, params }, this, "relay");
    this.up.send(text);
    return answer;
  }

  /** Runs `fn` with the client's frames held back; they follow, in order, when it settles. */
  async holdClient<T>(fn: () => Promise<T>): Promise<T> {
    this.holds += 1;
    try {
      return await fn();
    } finally {
      this.holds -= 1;
      this.flush();
    }
  }

  close(code = 1001): void {
    this.shut("relay", code);
  }

  /**
   * Sends a notification of ours to the client, in order with the server's frames (after every
   * frame already on its way to it).
   */
  notifyClient(method: string, params: unknown): void {
    const text = notificationText(method, params);
    this.chain = this.chain
      .then(() => {
        if (this.down.readyState === WebSocket.OPEN) this.down.send(text);
      })
      .catch((error: unknown) => this.report(error));
  }

  private fromClient(data: RawData, binary: boolean): void {
    const frame = binary ? null : parseFrame(textOf(data));
    if (frame?.kind === "request") {
      this.clientInFlight.set(idKey(frame.id), frame.method);
      if (frame.method === "initialize" && this.initializeKey === null) {
        this.initializeKey = idKey(frame.id);
        this.clientName = clientNameOf(frame.params);
      }
    }
    this.waiting.push({ data, binary, frame });
    this.flush();
  }

  private flush(): void {
    if (this.holds > 0 || this.up.readyState !== WebSocket.OPEN) return;
    for (const out of this.waiting.splice(0)) {
      if (out.frame !== null) this.hooks.onClientFrame?.(out.frame, this, "client");
      this.up.send(out.data, { binary: out.binary });
    }
  }

  private fromServer(data: RawData, binary: boolean): void {
    const frame = binary ? null : parseFrame(textOf(data));
    if (frame?.kind === "result" && this.pending.owns(frame.id)) {
      // Ours: settled at once, even while forwarding waits on it (the first login).
      this.hooks.onServerFrame?.(frame, this, "relay");
      this.pending.settle(frame.id, { result: frame.result });
      return;
    }
    if (frame?.kind === "error" && frame.id !== null && this.pending.owns(frame.id)) {
      this.hooks.onServerFrame?.(frame, this, "relay");
      this.pending.settle(frame.id, { error: frame.error });
      return;
    }
    if (frame?.kind === "request") {
      const handler = this.hooks.serverRequests.get(frame.method);
      if (handler !== undefined) {
        this.answer(frame.id, frame.method, handler(frame.params, this));
        return;
      }
    }
    this.chain = this.chain
      .then(() => this.forward(data, binary, frame))
      .catch((error: unknown) => this.report(error));
  }

  private async forward(data: RawData, binary: boolean, frame: Frame | null): Promise<void> {
    if (frame?.kind === "result" || frame?.kind === "error") {
      const key = frame.id === null ? null : idKey(frame.id);
      if (key !== null) this.clientInFlight.delete(key);
      if (key !== null && key === this.initializeKey && !this.initialized) {
        this.initialized = true;
        await this.hooks.onInitialized?.(this).catch((error: unknown) => this.report(error));
      }
    }
    if (frame !== null) this.hooks.onServerFrame?.(frame, this, "client");
    if (this.down.readyState === WebSocket.OPEN) this.down.send(data, { binary });
  }

  private answer(id: string | number, method: string, result: Promise<unknown>): void {
    result.then(
      (value) => this.sendUp(resultText(id, value)),
      (error: unknown) => {
        this.report(error);
        // An error answer rather than none: codex would otherwise wait its 10 s (§3). Its text is
        // what the person at the TUI may see: the reason, which says what to do (e.g. a login).
        const why = redact(errorMessage(error));
        this.sendUp(
          errorText(id, SERVER_ERROR_CODE, `codex-pool could not answer ${method}: ${why}`),
        );
      },
    );
  }

  private sendUp(text: string): void {
    if (this.up.readyState === WebSocket.OPEN) this.up.send(text);
  }

  private report(error: unknown): void {
    const wrapped = error instanceof Error ? error : new AppServerError(errorMessage(error));
    this.hooks.onError?.(this, wrapped);
  }

  private shut(by: CloseInfo["by"], code: number, reason?: string): void {
    if (this.closeInfo !== null) return;
    this.closeInfo = { by, code };
    this.pending.closeAll(
      reason ?? `the ${by === "client" ? "client" : "app-server"} closed the connection`,
    );
    const pass = by === "client" ? sendableCode(code, 1000) : sendableCode(code, 1011);
    for (const ws of [this.up, this.down]) {
      if (ws.readyState === WebSocket.OPEN) ws.close(pass);
      else if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
    }
    this.hooks.onClose?.(this, this.closeInfo);
    this.markClosed(this.closeInfo);
  }
}

function clientNameOf(params: unknown): string | null {
  if (params === null || typeof params !== "object") return null;
  const info = (params as { clientInfo?: unknown }).clientInfo;
  if (info === null || typeof info !== "object") return null;
  const name = (info as { name?: unknown }).name;
  return typeof name === "string" ? name : null;
}
