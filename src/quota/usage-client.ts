/**
 * The /wham/usage client: one GET with the account's bearer token and `chatgpt-account-id`, a
 * deadline, and a cap on the body, turned into a QuotaSnapshot or a classified ProbeFailure
 * (network, timeout, http, malformed, auth, throttled). An error answer is read by the one error
 * parser (parse-service-error.ts): a usage-limit body is a quota answer, `usage_not_included` and
 * a dead login travel as `service` for the caller to act on. It never refreshes tokens itself: a
 * plain 401 is reported as `auth` so the caller can force one refresh through the refresher and
 * retry.
 */
import type { ProbeError, QuotaSnapshot } from "../pool/schema.js";
import { CodexPoolError, errorMessage } from "../platform/errors.js";
import { QuotaParseError } from "./fields.js";
import { classifyErrorText, type ServiceError } from "./parse-service-error.js";
import { parseUsageBody } from "./parse-usage.js";
import { discardBody, type HttpFetch, type HttpResponse } from "../platform/http.js";

export type ProbeErrorKind = ProbeError["kind"];

/** A failed quota probe, classified; `message` is short enough for a status table cell. */
export class ProbeFailure extends CodexPoolError {
  readonly kind: ProbeErrorKind;
  readonly status: number | null;
  /** What the error answer said, when there was one to read. */
  readonly service: ServiceError | null;
  constructor(
    kind: ProbeErrorKind,
    message: string,
    options?: { status?: number; cause?: unknown; service?: ServiceError },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.kind = kind;
    this.status = options?.status ?? null;
    this.service = options?.service ?? null;
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
  fetch: HttpFetch;
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

async function readCapped(response: HttpResponse, maxBytes: number): Promise<string> {
  const declared = Number(response.headers.get("content-length") ?? "NaN");
  if (Number.isFinite(declared) && declared > maxBytes) {
    await discardBody(response.body);
    throw new ProbeFailure("malformed", `answer too large (${declared} bytes)`);
  }
  if (response.body === null) return "";
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const value of response.body) {
    total += value.byteLength;
    // Leaving the loop stops reading the rest.
    if (total > maxBytes)
      throw new ProbeFailure("malformed", `answer too large (over ${maxBytes} bytes)`);
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

/** "11s", "2m" for a throttle's delay. */
function seconds(ms: number): string {
  return ms < 120_000 ? `${Math.ceil(ms / 1000)}s` : `${Math.ceil(ms / 60_000)}m`;
}

function failureOf(status: number, service: ServiceError): ProbeFailure {
  switch (service.kind) {
    case "usage-limit":
      return httpFailure(status); // not reached: a usage-limit answer is a snapshot
    case "not-included":
      return new ProbeFailure("http", "its plan does not include Codex (usage_not_included)", {
        status,
        service,
      });
    case "throttled":
      return new ProbeFailure(
        "throttled",
        service.retryAfterMs === null
          ? "throttled (rate_limit_exceeded)"
          : `throttled, retry in ${seconds(service.retryAfterMs)}`,
        { status, service },
      );
    case "login-dead":
      return new ProbeFailure("auth", `the sign-in was invalidated (${service.code})`, {
        status,
        service,
      });
    case "unauthorized":
      return new ProbeFailure("auth", "unauthorized (401)", { status, service });
    case "other":
      return httpFailure(status);
  }
}

async function interpret(response: HttpResponse, req: UsageRequest): Promise<QuotaSnapshot> {
  const maxBytes = req.maxBytes ?? MAX_USAGE_BODY_BYTES;
  if (response.status !== 200) {
    // A body too large to read is judged by its status alone; a body cut off (an abort, a lost
    // connection) is a timeout or a network failure, never a plain 401 that forces a refresh.
    const text = await readCapped(response, maxBytes).catch((error: unknown) => {
      if (error instanceof ProbeFailure && error.kind === "malformed") return "";
      throw error;
    });
    let service: ServiceError;
    try {
      service = classifyErrorText(response.status, text, req.now(), response.headers);
    } catch (error) {
      if (error instanceof QuotaParseError) throw httpFailure(response.status);
      throw error;
    }
    // The usage endpoint itself may answer the usage-limit error; that is a quota answer too.
    if (service.kind === "usage-limit") return service.hit.snapshot;
    throw failureOf(response.status, service);
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
