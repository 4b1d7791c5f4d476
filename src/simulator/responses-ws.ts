/**
 * The Responses WebSocket on /backend-api/codex/responses, codex's primary transport in ChatGPT mode
 * (docs/codex-cli.md §0.3, §1g). Each `response.create` frame is answered with the same events as the SSE
 * stream, preceded by `codex.rate_limits`; refusals are `{"type":"error","status":…}` frames.
 */
import { STATUS_CODES, type IncomingMessage, type Server } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, type RawData, type WebSocket } from "ws";
import { authenticate } from "./backend-auth.js";
import type { SimContext } from "./context.js";
import { clientHeaders, parseJson, type ClientHeaders } from "./http-util.js";
import { pathOf } from "./log.js";
import { rateLimitHeaders, rateLimitsEvent, snapshotOf } from "./rate-limits.js";
import { RESPONSES_PATH } from "./server.js";
import {
  failBody,
  kindOf,
  parseResponsesRequest,
  runTurn,
  userTextsOf,
  type RequestKind,
} from "./turn-script.js";

function refuseUpgrade(socket: Duplex, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? "Error"}\r\n` +
      `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(text)}\r\nconnection: close\r\n\r\n` +
      text,
  );
}

function rawText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString("utf8");
  return data instanceof ArrayBuffer ? Buffer.from(data).toString("utf8") : data.toString("utf8");
}

function send(ws: WebSocket, value: unknown): void {
  if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(value));
}

class Connection {
  /** User texts carried by each response on this connection, for `previous_response_id` chains. */
  private readonly history = new Map<string, string[]>();
  private queue: Promise<void> = Promise.resolve();

  private readonly ctx: SimContext;
  private readonly ws: WebSocket;
  private readonly accountId: string;
  private readonly client: ClientHeaders;
  /** The upgrade request: its bearer token is checked again per turn when the script asks. */
  private readonly upgrade: IncomingMessage;

  constructor(ctx: SimContext, ws: WebSocket, accountId: string, upgrade: IncomingMessage) {
    this.ctx = ctx;
    this.ws = ws;
    this.accountId = accountId;
    this.upgrade = upgrade;
    this.client = clientHeaders(upgrade);
    ws.on("message", (data: RawData, isBinary: boolean) => {
      if (isBinary) return;
      // Frames are answered in order, one at a time, like the real service.
      const text = rawText(data);
      this.queue = this.queue.then(() => this.frame(text)).catch(() => ws.terminate());
    });
  }

  /**
   * `recheckToken`: the token the socket was opened with must still be valid for each request, so
   * an access token that expires (or is revoked) while the socket stays open is refused with a 401
   * error frame, as it would be on a new connection (live mode's token tests,
   * docs/codex-app-server.md §3).
   */
  private refusedToken(kind: RequestKind, userTexts: string[]): boolean {
    const auth = authenticate(this.ctx, this.upgrade);
    if (auth.ok && auth.account.spec.accountId === this.accountId) return false;
    const error = auth.ok ? "account changed" : auth.error;
    this.ctx.log.add({
      method: "WS",
      path: RESPONSES_PATH,
      accountId: this.accountId,
      kind,
      status: 401,
      error,
      transport: "ws",
      ...(kind === "turn" ? { userTexts, ...this.client } : {}),
    });
    const body = auth.ok ? {} : auth.body;
    send(this.ws, { type: "error", status: 401, error: body["error"] });
    return true;
  }

  private async frame(text: string): Promise<void> {
    const json = parseJson(Buffer.from(text));
    const type =
      json !== null && typeof json === "object" && "type" in json ? json.type : undefined;
    if (type !== "response.create") return;
    const request = parseResponsesRequest(json);
    const account = this.ctx.state.accounts.get(this.accountId);
    if (request === null || account === undefined) {
      send(this.ws, {
        type: "error",
        status: 400,
        error: { type: "invalid_request_error", message: "bad frame" },
      });
      return;
    }
    const kind = kindOf(request);
    const previous = request.previous_response_id
      ? (this.history.get(request.previous_response_id) ?? [])
      : [];
    const userTexts = [...previous, ...userTextsOf(request)];
    if (account.spec.turns?.recheckToken === true && this.refusedToken(kind, userTexts)) return;
    const logged = this.ctx.log.add({
      method: "WS",
      path: RESPONSES_PATH,
      accountId: this.accountId,
      kind,
      status: 0,
      transport: "ws",
      ...(kind === "turn" ? { userTexts, ...this.client } : {}),
    });
    const outcome = await runTurn(this.ctx, account, request, kind);
    switch (outcome.type) {
      case "fail":
        this.ctx.log.update(logged, {
          status: outcome.status,
          error: `simulated ${outcome.status}`,
        });
        send(this.ws, {
          type: "error",
          status: outcome.status,
          error: outcome.body["error"],
          ...(outcome.headers ? { headers: outcome.headers } : {}),
        });
        return;
      case "limit":
        this.ctx.log.update(logged, { status: 429, error: "usage_limit_reached" });
        send(this.ws, {
          type: "error",
          status: 429,
          error: outcome.body["error"],
          headers: outcome.headers,
        });
        return;
      case "events":
        this.ctx.log.update(logged, { status: 200 });
        this.history.set(outcome.responseId, userTexts);
        if (outcome.snapshot !== null) send(this.ws, rateLimitsEvent(outcome.snapshot));
        for (const event of outcome.events) send(this.ws, event);
        return;
    }
  }
}

/** Accepts WS upgrades on `server`; returns a function that drops every open connection. */
export function attachResponsesWs(ctx: SimContext, server: Server): () => void {
  // codex offers permessage-deflate; the simulator declines it (docs/codex-cli.md §1f).
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  const extraHeaders = new WeakMap<IncomingMessage, Record<string, string>>();
  wss.on("headers", (headers: string[], req: IncomingMessage) => {
    for (const [name, value] of Object.entries(extraHeaders.get(req) ?? {}))
      headers.push(`${name}: ${value}`);
  });

  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on("error", () => socket.destroy());
    const path = pathOf(req.url);
    const base = { method: "WS", path, kind: "turn" as const, transport: "ws" as const };
    if (path !== RESPONSES_PATH) {
      ctx.log.add({ ...base, kind: "other", accountId: null, status: 404 });
      return refuseUpgrade(socket, 404, { detail: "Not Found" });
    }
    const auth = authenticate(ctx, req);
    if (!auth.ok) {
      ctx.log.add({ ...base, accountId: auth.accountId, status: 401, error: auth.error });
      return refuseUpgrade(socket, 401, auth.body);
    }
    const account = auth.account;
    const failStatus = account.spec.turns?.failStatus;
    if (failStatus !== undefined) {
      ctx.log.add({
        ...base,
        accountId: account.spec.accountId,
        status: failStatus,
        error: `simulated ${failStatus}`,
      });
      return refuseUpgrade(socket, failStatus, failBody(failStatus));
    }
    if (account.spec.turns?.websocket === false) {
      // Not a turn: codex falls back to HTTP POST + SSE at once on a 426 and sends the turn there.
      ctx.log.add({
        ...base,
        kind: "other",
        accountId: account.spec.accountId,
        status: 426,
        error: "websocket disabled",
      });
      return refuseUpgrade(socket, 426, { detail: "websocket transport disabled by the scenario" });
    }
    extraHeaders.set(req, rateLimitHeaders(snapshotOf(account)));
    wss.handleUpgrade(req, socket, head, (ws) => {
      new Connection(ctx, ws, account.spec.accountId, req);
    });
  });

  return () => {
    for (const client of wss.clients) client.terminate();
    wss.close();
  };
}
