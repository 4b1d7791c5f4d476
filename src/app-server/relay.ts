/**
 * The relay between codex clients and the app-server (docs/codex-app-server.md §7): a WebSocket
 * listener on 127.0.0.1 that admits only clients presenting its capability token, and pairs each
 * with a connection of its own to the app-server (relay-connection.ts).
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { WebSocketServer } from "ws";
import { bearerMatches, newCapabilityToken } from "./capability.js";
import { RelayConnection, type RelayHooks, type UpstreamTarget } from "./relay-connection.js";

export interface RelayOptions {
  upstream: UpstreamTarget;
  hooks: RelayHooks;
  /** The token clients must present; a fresh random one by default. */
  token?: string;
  /** The listener failed after it started (it keeps serving the connections it has). */
  onListenerError?(error: Error): void;
}

export interface Relay {
  /** ws://127.0.0.1:PORT */
  readonly url: string;
  /** What a client must send as `Authorization: Bearer …`. A secret. */
  readonly token: string;
  /** Every connection accepted so far, oldest first (closed ones included). */
  connections(): readonly RelayConnection[];
  /** Stops listening and closes every connection. */
  close(): Promise<void>;
}

function refuse(socket: Duplex, status: number, text: string): void {
  socket.end(
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? "Error"}\r\n` +
      `content-type: text/plain\r\ncontent-length: ${Buffer.byteLength(text)}\r\nconnection: close\r\n\r\n${text}`,
  );
}

export async function startRelay(options: RelayOptions): Promise<Relay> {
  const token = options.token ?? newCapabilityToken();
  const all: RelayConnection[] = [];
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  const server = http.createServer((_req, res) => {
    res.writeHead(426, { "content-type": "text/plain" }).end("WebSocket only\n");
  });
  server.on("upgrade", (req, socket, head) => {
    socket.on("error", () => socket.destroy());
    if (!bearerMatches(req.headers.authorization, token)) {
      refuse(socket, 401, "missing or wrong capability token\n");
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      all.push(new RelayConnection(ws, options.upstream, options.hooks));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  server.on("error", (error) => options.onListenerError?.(error));
  const port = (server.address() as AddressInfo).port;
  let closing: Promise<void> | null = null;
  return {
    url: `ws://127.0.0.1:${port}`,
    token,
    connections: () => [...all],
    close() {
      closing ??= (async () => {
        for (const conn of all) conn.close();
        await Promise.all(all.map((conn) => conn.closed));
        wss.close();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
      })();
      return closing;
    },
  };
}
