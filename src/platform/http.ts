/**
 * Our own HTTP requests (quota probes, token exchanges, the clock check) go through this small
 * client over node:http and node:https rather than the global `fetch`. `fetch` is undici, whose
 * first request costs a `codex-pool run` about 9 MB of memory (its HTTP parser is WebAssembly,
 * and its code is large) for the few small requests a supervised session makes; node:http is
 * loaded anyway (the live relay's WebSockets). docs/decisions.md "Performance targets" holds the
 * memory target.
 *
 * `HttpFetch` is the part of the fetch API our callers use, so the global `fetch` (and a test's
 * fake built on it) still fits it. Differences from fetch, all on purpose:
 * - redirects are never followed: none of the endpoints we call redirects, and a token request
 *   must not be replayed elsewhere. `redirect: "error"` rejects on a 3xx as fetch does; otherwise
 *   the 3xx answer is returned as it is;
 * - no compression is asked for, so bodies arrive as sent;
 * - every request has a connection of its own (no keep-alive): a reused idle connection that the
 *   server is closing at that moment fails a request already written, and a token refresh must
 *   never be left in doubt for that; our requests are few and far between anyway;
 * - a failed connection rejects with an Error whose `cause` is the socket error (its `code`,
 *   e.g. ECONNREFUSED, as fetch's `cause` has it); an abort rejects with the signal's reason
 *   (TimeoutError for AbortSignal.timeout), as fetch does.
 */
import http from "node:http";
import https from "node:https";

export interface HttpRequestInit {
  readonly method?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  readonly signal?: AbortSignal;
  readonly redirect?: "error" | "manual" | "follow";
}

export interface HttpResponse {
  readonly status: number;
  /** Names lower-cased; a repeated header's values joined with ", " (as the fetch API's). */
  readonly headers: {
    get(name: string): string | null;
    forEach(callback: (value: string, key: string) => void): void;
  };
  /** The body as it arrives; leaving its iteration early stops reading it. */
  readonly body: AsyncIterable<Uint8Array> | null;
  text(): Promise<string>;
}

/** What the core takes to make a request (the global `fetch` fits). */
export type HttpFetch = (url: string, init?: HttpRequestInit) => Promise<HttpResponse>;

/** The user-agent the global fetch sent, so the services see our requests as before. */
const USER_AGENT = "node";

function headersOf(res: http.IncomingMessage): HttpResponse["headers"] {
  const text = (value: string | string[]): string =>
    Array.isArray(value) ? value.join(", ") : value;
  return {
    get(name) {
      const value = res.headers[name.toLowerCase()];
      return value === undefined ? null : text(value);
    },
    forEach(callback) {
      for (const [key, value] of Object.entries(res.headers)) {
        if (value !== undefined) callback(text(value), key);
      }
    },
  };
}

/** The signal's reason as an Error (AbortSignal.timeout's is a DOMException named TimeoutError). */
function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new Error("the request was aborted");
}

function responseOf(res: http.IncomingMessage, signal: AbortSignal | undefined): HttpResponse {
  return {
    status: res.statusCode ?? 0,
    headers: headersOf(res),
    body: res,
    async text() {
      const chunks: Buffer[] = [];
      try {
        for await (const chunk of res) chunks.push(chunk as Buffer);
      } catch (error) {
        // Aborted while the body arrived: the signal's reason, as fetch reports it.
        throw signal?.aborted === true ? abortReason(signal) : error;
      }
      return Buffer.concat(chunks).toString("utf8");
    },
  };
}

function failure(error: Error): Error {
  const code = (error as NodeJS.ErrnoException).code;
  return new Error(`request failed (${code ?? error.message})`, { cause: error });
}

export const nodeFetch: HttpFetch = (url, init = {}) => {
  const target = new URL(url);
  const client =
    target.protocol === "https:" ? https : target.protocol === "http:" ? http : undefined;
  if (client === undefined) {
    return Promise.reject(new TypeError(`unsupported protocol ${target.protocol}`));
  }
  const { signal } = init;
  if (signal?.aborted === true) return Promise.reject(abortReason(signal));
  return new Promise<HttpResponse>((resolve, reject) => {
    const headers: Record<string, string> = { "user-agent": USER_AGENT, ...init.headers };
    if (init.body !== undefined) headers["content-length"] = String(Buffer.byteLength(init.body));
    const req = client.request(target, { method: init.method ?? "GET", headers, agent: false });
    const onAbort = (): void => {
      const reason = abortReason(signal as AbortSignal);
      reject(reason); // no-op once answered: the body's reader then sees the error below
      req.destroy(reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    const done = (): void => signal?.removeEventListener("abort", onAbort);
    req.on("error", (error) => {
      done();
      reject(signal?.aborted === true ? abortReason(signal) : failure(error));
    });
    req.on("response", (res) => {
      res.on("end", done);
      res.on("close", done);
      const status = res.statusCode ?? 0;
      if (init.redirect === "error" && status >= 300 && status < 400) {
        res.resume();
        done();
        reject(new TypeError(`redirected (HTTP ${status}) where no redirect is allowed`));
        return;
      }
      resolve(responseOf(res, signal));
    });
    req.end(init.body);
  });
};

/** Stops reading a body not wanted (a web stream is cancelled, a socket's answer dropped). */
export async function discardBody(body: AsyncIterable<Uint8Array> | null): Promise<void> {
  if (body === null) return;
  await body[Symbol.asyncIterator]()
    .return?.()
    .catch(() => undefined);
}
