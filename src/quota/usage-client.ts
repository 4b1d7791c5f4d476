/**
 * The /wham/usage client: one GET with the account's bearer token and `chatgpt-account-id`, a
 * deadline, and a cap on the body, turned into a QuotaSnapshot or a classified ProbeFailure
 * (network, timeout, http, malformed, auth). It never refreshes tokens itself: a 401 is reported as
 * `auth` so the caller can force one refresh through the refresher and retry.
 */
import type { ProbeError, QuotaSnapshot } from "../pool/schema.js";
import { CodexPoolError, errorMessage } from "../platform/errors.js";
import { QuotaParseError } from "./fields.js";
import { parseLimitErrorText } from "./parse-limit-error.js";
import { parseUsageBody } from "./parse-usage.js";

export type ProbeErrorKind = ProbeError["kind"];

/** A failed quota probe, classified; `message` is short enough for a status table cell. */
export class ProbeFailure extends CodexPoolError {
  readonly kind: ProbeErrorKind;
  readonly status: number | null;
  constructor(
    kind: ProbeErrorKind,
    message: string,
    options?: { status?: number; cause?: unknown },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.kind = kind;
    this.status = options?.status ?? null;
  }
}

/** Real usage answers are about 1 KiB; anything this large is not one. */
export const MAX_USAGE_BODY_BYTES = 256 * 1024;

export interface UsageRequest {
  /** The backend base, e.g. https://chatgpt.com/backend-api (no trailing slash). */
  backendUrl: string;
  accessToken: string;
  /** The ChatGPT account (workspace) id, sent as `chatgpt-account-id`. */
  accountId: string;
  fetch: typeof fetch;
  /** Aborting it (a deadline, Ctrl+C) ends the request; reported as a timeout. */
  signal?: AbortSignal;
  /** When the answer is observed (the clock is injected). */
  now: () => Date;
  maxBytes?: number;
}

function networkReason(error: unknown): string {
  const cause = (error as { cause?: unknown }).cause;
  const code = (cause as { code?: unknown } | undefined)?.code;
  if (typeof code === "string") return code;
  return cause instanceof Error ? cause.message : errorMessage(error);
}

function isAbort(error: unknown, signal?: AbortSignal): boolean {
  if (signal?.aborted) return true;
  const name = (error as { name?: unknown } | null)?.name;
  return name === "AbortError" || name === "TimeoutError";
}

async function readCapped(response: Response, maxBytes: number): Promise<string> {
  const declared = Number(response.headers.get("content-length") ?? "NaN");
  if (Number.isFinite(declared) && declared > maxBytes) {
    await response.body?.cancel().catch(() => undefined);
    throw new ProbeFailure("malformed", `answer too large (${declared} bytes)`);
  }
  if (response.body === null) return "";
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw new ProbeFailure("malformed", `answer too large (over ${maxBytes} bytes)`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ProbeFailure("malformed", "malformed answer (not JSON)", { cause: error });
  }
}

function httpFailure(status: number): ProbeFailure {
  if (status === 401) return new ProbeFailure("auth", "unauthorized (401)", { status });
  if (status === 403) return new ProbeFailure("http", "forbidden (403)", { status });
  if (status === 429) return new ProbeFailure("http", "rate limited (429)", { status });
  if (status >= 500) return new ProbeFailure("http", `server error ${status}`, { status });
  return new ProbeFailure("http", `HTTP ${status}`, { status });
}

async function interpret(response: Response, req: UsageRequest): Promise<QuotaSnapshot> {
  const maxBytes = req.maxBytes ?? MAX_USAGE_BODY_BYTES;
  if (response.status === 429) {
    // The usage endpoint itself may answer the usage-limit error; that is a quota answer too.
    const text = await readCapped(response, maxBytes).catch(() => "");
    try {
      const hit = parseLimitErrorText(text, req.now(), response.headers);
      if (hit !== null) return hit.snapshot;
    } catch {
      // Not a usage-limit body: a plain 429.
    }
    throw httpFailure(429);
  }
  if (response.status !== 200) {
    await response.body?.cancel().catch(() => undefined);
    throw httpFailure(response.status);
  }
  const json = parseJson(await readCapped(response, maxBytes));
  try {
    return parseUsageBody(json, req.now());
  } catch (error) {
    if (error instanceof QuotaParseError) {
      throw new ProbeFailure("malformed", `malformed answer (${error.message})`, { cause: error });
    }
    throw error;
  }
}

/** GET {backendUrl}/wham/usage → the account's quota. Throws ProbeFailure, never anything else. */
export async function fetchUsage(req: UsageRequest): Promise<QuotaSnapshot> {
  try {
    const response = await req.fetch(`${req.backendUrl}/wham/usage`, {
      method: "GET",
      headers: {
        accept: "application/json",
        authorization: `Bearer ${req.accessToken}`,
        "chatgpt-account-id": req.accountId,
        originator: "codex_cli_rs",
      },
      redirect: "error",
      ...(req.signal ? { signal: req.signal } : {}),
    });
    return await interpret(response, req);
  } catch (error) {
    if (error instanceof ProbeFailure) throw error;
    if (isAbort(error, req.signal)) {
      throw new ProbeFailure("timeout", "no answer in time", { cause: error });
    }
    throw new ProbeFailure("network", `network error (${networkReason(error)})`, { cause: error });
  }
}
