/** Small HTTP helpers shared by the simulator's routes. */
import type { IncomingMessage, ServerResponse } from "node:http";
import zlib from "node:zlib";
import { decompress as zstdDecompress } from "fzstd";

const MAX_BODY = 16 * 1024 * 1024;

export class BodyError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

/** The request body, decoded per content-encoding (codex zstd-compresses turn bodies, §0.4). */
export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buf.length;
    if (size > MAX_BODY) throw new BodyError(413, "body too large");
    chunks.push(buf);
  }
  const raw = Buffer.concat(chunks);
  const encoding = (req.headers["content-encoding"] ?? "identity").toLowerCase().trim();
  try {
    switch (encoding) {
      case "identity":
      case "":
        return raw;
      case "zstd":
        return Buffer.from(zstdDecompress(raw));
      case "gzip":
        return zlib.gunzipSync(raw);
      case "deflate":
        return zlib.inflateSync(raw);
      case "br":
        return zlib.brotliDecompressSync(raw);
      default:
        throw new BodyError(415, `unsupported content-encoding ${encoding}`);
    }
  } catch (error) {
    if (error instanceof BodyError) throw error;
    throw new BodyError(400, `cannot decode ${encoding} body`);
  }
}

export function parseJson(buf: Buffer): unknown {
  try {
    return JSON.parse(buf.toString("utf8"));
  } catch {
    return undefined;
  }
}

/** A form-encoded or JSON body as flat string fields (the token endpoint accepts both). */
export function parseFields(req: IncomingMessage, buf: Buffer): Record<string, string> {
  const type = req.headers["content-type"] ?? "";
  const fields: Record<string, string> = {};
  if (type.includes("application/json")) {
    const json = parseJson(buf);
    if (json !== null && typeof json === "object") {
      for (const [k, v] of Object.entries(json)) {
        if (typeof v === "string") fields[k] = v;
      }
    }
    return fields;
  }
  for (const [k, v] of new URLSearchParams(buf.toString("utf8"))) fields[k] = v;
  return fields;
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

export function bearerOf(req: IncomingMessage): string | null {
  const header = req.headers.authorization;
  if (header === undefined) return null;
  const match = /^Bearer\s+(.+)$/i.exec(header.trim());
  return match?.[1] ?? null;
}

export function headerOf(req: IncomingMessage, name: string): string | null {
  const value = req.headers[name];
  if (Array.isArray(value)) return value[0] ?? null;
  return value ?? null;
}

/** Waits ms, or rejects when the simulator closes (so scripted latency never outlives it). */
export function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(new Error("simulator closed"));
      return;
    }
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new Error("simulator closed"));
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/** Never settles until the simulator closes: a scripted hang. */
export function hangUntilClosed(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(new Error("simulator closed"));
    signal.addEventListener("abort", () => reject(new Error("simulator closed")), { once: true });
  });
}

/** Who the client says it is (logged with each turn). */
export interface ClientHeaders {
  originator?: string;
  userAgent?: string;
}

export function clientHeaders(req: IncomingMessage): ClientHeaders {
  const originator = headerOf(req, "originator");
  const userAgent = headerOf(req, "user-agent");
  return {
    ...(originator !== null ? { originator } : {}),
    ...(userAgent !== null ? { userAgent } : {}),
  };
}
