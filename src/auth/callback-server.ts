/**
 * The loopback server that receives the browser's redirect (docs/chatgpt-backend.md §2.1). It listens on
 * 127.0.0.1 and ::1 (browsers may resolve `localhost` to either; ::1 may be missing), answers only
 * `/auth/callback`, refuses a wrong state or a missing code with 400 and keeps waiting, and keeps the
 * first code it gets.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { AuthError, hasErrorCode } from "../platform/errors.js";
import { CALLBACK_PATH } from "./oauth.js";

export interface CallbackServer {
  /** The port actually bound (differs from the request only when it asked for 0). */
  readonly port: number;
  /** The authorization code of the first valid callback; rejects when the server says "error". */
  readonly code: Promise<string>;
  close(): Promise<void>;
}

/** The callback port is taken by another process: the caller falls back to paste mode. */
export class CallbackPortBusyError extends AuthError {}

const SUCCESS_PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>Signed in</title></head>
<body style="font-family:sans-serif;margin:3em"><h1>Signed in to codex-pool</h1>
<p>You can close this tab and return to the terminal.</p></body></html>`;

const HEADERS = {
  "content-type": "text/html; charset=utf-8",
  "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'",
  "cache-control": "no-store",
  "referrer-policy": "no-referrer",
};

function listen(server: http.Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => reject(error);
    server.once("error", onError);
    server.listen({ host, port, exclusive: true }, () => {
      server.off("error", onError);
      resolve();
    });
  });
}

function closeServer(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) {
      resolve();
      return;
    }
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

export async function startCallbackServer(options: {
  port: number;
  state: string;
}): Promise<CallbackServer> {
  let settled = false;
  let resolveCode!: (code: string) => void;
  let rejectCode!: (error: Error) => void;
  const code = new Promise<string>((resolve, reject) => {
    resolveCode = resolve;
    rejectCode = reject;
  });
  // The caller may stop waiting (timeout) before anything arrives: never an unhandled rejection.
  code.catch(() => undefined);

  const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const reply = (status: number, text: string): void => {
      res.writeHead(status, status === 200 ? HEADERS : { "content-type": "text/plain" });
      res.end(status === 200 ? SUCCESS_PAGE : text + "\n");
    };
    if (req.method !== "GET" || url.pathname !== CALLBACK_PATH) return reply(404, "not found");
    if (url.searchParams.get("state") !== options.state) {
      return reply(
        400,
        "state mismatch: this sign-in link is not the one codex-pool is waiting for",
      );
    }
    if (settled) return reply(200, "");
    const error = url.searchParams.get("error");
    if (error !== null) {
      settled = true;
      const safe = /^[A-Za-z0-9_.-]{1,64}$/.test(error) ? error : "error";
      rejectCode(
        new AuthError(`sign-in was refused in the browser (${safe}); run codex-pool login again`),
      );
      return reply(400, "sign-in failed; see the terminal");
    }
    const received = url.searchParams.get("code");
    if (received === null || received === "") return reply(400, "missing authorization code");
    settled = true;
    resolveCode(received);
    return reply(200, "");
  };

  const v4 = http.createServer(handler);
  try {
    await listen(v4, "127.0.0.1", options.port);
  } catch (error) {
    if (hasErrorCode(error, "EADDRINUSE", "EACCES")) {
      throw new CallbackPortBusyError(
        `port ${options.port} is in use by another program, so the browser redirect cannot be received`,
        { cause: error },
      );
    }
    throw error;
  }
  const port = (v4.address() as AddressInfo).port;
  const servers = [v4];
  const v6 = http.createServer(handler);
  try {
    await listen(v6, "::1", port);
    servers.push(v6);
  } catch {
    // No IPv6 loopback here (or the port is taken there): 127.0.0.1 alone still works.
  }
  return {
    port,
    code,
    async close() {
      await Promise.all(servers.map(closeServer));
    },
  };
}
