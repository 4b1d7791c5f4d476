/**
 * The stray-traffic guard: an HTTP proxy on loopback that refuses everything. Codex children get it
 * as HTTPS_PROXY/HTTP_PROXY/ALL_PROXY, so any request that escapes the simulator is recorded here
 * and never leaves the machine (docs/codex-cli.md §1e).
 */
import http from "node:http";
import type { Duplex } from "node:stream";

export interface Guard {
  readonly server: http.Server;
  readonly strays: string[];
}

export function createGuard(): Guard {
  const strays: string[] = [];
  const server = http.createServer((req, res) => {
    strays.push(`${req.method ?? "GET"} ${req.url ?? "/"}`);
    res.writeHead(403, { "content-type": "text/plain", connection: "close" });
    res.end("refused by the codex-pool simulator's stray-traffic guard\n");
  });
  const refuse = (req: http.IncomingMessage, socket: Duplex): void => {
    strays.push(`${req.method ?? "CONNECT"} ${req.url ?? ""}`);
    socket.on("error", () => socket.destroy());
    socket.end("HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
  };
  server.on("connect", refuse);
  server.on("upgrade", refuse);
  return { server, strays };
}
