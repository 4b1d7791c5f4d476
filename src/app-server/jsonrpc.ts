/**
 * JSON-RPC 2.0 as codex's app-server speaks it (docs/codex-app-server.md §3): one JSON object per
 * WebSocket text frame, without the `"jsonrpc":"2.0"` member, ids that are numbers or strings (the
 * TUI mixes both: `1`, `"initialize"`, `"tui-config-read-<uuid>"`). Every frame is parsed here, at
 * the boundary, into one discriminated union.
 */
import type { RawData } from "ws";
import { z } from "zod";

export type RequestId = string | number;

const IdSchema = z.union([z.string(), z.number()]);
const ErrorSchema = z
  .object({ code: z.number(), message: z.string(), data: z.unknown().optional() })
  .passthrough();
const EnvelopeSchema = z
  .object({
    id: IdSchema.nullish(),
    method: z.string().optional(),
    params: z.unknown().optional(),
    result: z.unknown().optional(),
    error: ErrorSchema.optional(),
  })
  .passthrough();

export type RpcError = z.infer<typeof ErrorSchema>;

export type Frame =
  | { kind: "request"; id: RequestId; method: string; params: unknown }
  | { kind: "notification"; method: string; params: unknown }
  | { kind: "result"; id: RequestId; result: unknown }
  | { kind: "error"; id: RequestId | null; error: RpcError }
  /** Not JSON, or JSON that is none of the above. The reason never quotes the frame. */
  | { kind: "invalid"; reason: string };

/** A WebSocket message's text (ws hands a frame over as one buffer or several). */
export function textOf(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString("utf8");
  return Buffer.isBuffer(data) ? data.toString("utf8") : Buffer.from(data).toString("utf8");
}

export function parseFrame(text: string): Frame {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { kind: "invalid", reason: "not JSON" };
  }
  const parsed = EnvelopeSchema.safeParse(json);
  if (!parsed.success) return { kind: "invalid", reason: "not a JSON-RPC object" };
  const { id, method, params, error } = parsed.data;
  if (method !== undefined) {
    if (id === undefined || id === null) return { kind: "notification", method, params };
    return { kind: "request", id, method, params };
  }
  if (error !== undefined) return { kind: "error", id: id ?? null, error };
  if (id !== undefined && id !== null && "result" in parsed.data) {
    return { kind: "result", id, result: parsed.data.result };
  }
  return { kind: "invalid", reason: "neither a request, a notification nor a response" };
}

/** A map key for an id: 1 and "1" are different ids. */
export function idKey(id: RequestId): string {
  return typeof id === "number" ? `n:${id}` : `s:${id}`;
}

export function requestText(id: RequestId, method: string, params: unknown): string {
  return JSON.stringify(params === undefined ? { id, method } : { id, method, params });
}

export function notificationText(method: string, params?: unknown): string {
  return JSON.stringify(params === undefined ? { method } : { method, params });
}

export function resultText(id: RequestId, result: unknown): string {
  return JSON.stringify({ id, result });
}

export function errorText(id: RequestId, code: number, message: string): string {
  return JSON.stringify({ id, error: { code, message } });
}

/** JSON-RPC's "server error" range; what we answer a server request we could not serve with. */
export const SERVER_ERROR_CODE = -32000;
