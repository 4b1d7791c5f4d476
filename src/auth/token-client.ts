/**
 * The token endpoint: code exchange (form-encoded, docs/chatgpt-backend.md §2.1) and refresh
 * (JSON, like codex, docs/codex-cli.md §1d). Answers are parsed with zod; failures become typed
 * errors. A permanent refresh failure (a code of error-codes.ts's OAuth table — invalid_grant,
 * refresh_token_reused/expired/invalidated, token_expired, token_invalidated — or any 401) is a
 * NeedsLoginError carrying a reason code; network trouble, 5xx and timeouts are TransientError. No
 * message ever holds a token or a raw response body (it could echo one).
 */
import { z } from "zod";
import {
  AuthError,
  CancelledError,
  MalformedResponseError,
  NeedsLoginError,
  TransientError,
  errorMessage,
} from "../platform/errors.js";
import { OAUTH_PERMANENT_CODES, errorCodeOf, safeCode, saysRevoked } from "./error-codes.js";
import { CLIENT_ID, tokenUrl } from "./oauth.js";
import type { HttpFetch, HttpResponse } from "../platform/http.js";
import type { SendFailure } from "../pool/refresh-coordinator.js";

export interface TokenRequestOptions {
  authUrl: string;
  fetch: HttpFetch;
  signal?: AbortSignal;
  /** Per request; default 30 s. */
  timeoutMs?: number;
}

/** What the token endpoint gave back; fields it omitted are null. */
export interface TokenGrant {
  accessToken: string;
  refreshToken: string | null;
  idToken: string | null;
  expiresIn: number | null;
}

/**
 * A token request that failed without a definitive answer, with how far it got: `not-sent` (the
 * connection was never made, so a refresh token sent with it is still good), `answered` (the
 * service answered a non-definitive failure, e.g. a 5xx: it did not rotate), `unknown` (sent, no
 * answer: the service may have rotated). The shared pool's refresh protocol turns `unknown` into
 * `in doubt` (docs/team-pool.md).
 */
export class TokenSendError extends TransientError {
  readonly delivery: SendFailure;
  constructor(message: string, delivery: SendFailure, options?: { cause?: unknown }) {
    super(message, options);
    this.delivery = delivery;
  }
}

/** Connection errors that happen before a single byte of the request leaves this machine. */
const NOT_SENT_CODES = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
]);

const GrantSchema = z.object({
  access_token: z.string().min(1),
  refresh_token: z.string().min(1).optional(),
  id_token: z.string().min(1).optional(),
  expires_in: z.number().positive().optional(),
  token_type: z.string().optional(),
  scope: z.string().optional(),
});

interface Failure {
  status: number;
  code: string | null;
  permanent: boolean;
}

function classify(status: number, body: unknown, text: string): Failure {
  const code = errorCodeOf(body);
  const revoked = saysRevoked(text);
  const permanent =
    status === 401 ||
    (code !== null && OAUTH_PERMANENT_CODES.has(code)) ||
    text.toLowerCase().includes("invalid_grant") ||
    revoked;
  return { status, code: code ?? (revoked ? "token_invalidated" : null), permanent };
}

async function post(
  what: string,
  options: TokenRequestOptions,
  body: { contentType: string; payload: string },
): Promise<{ status: number; json: unknown; text: string }> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const signals = [AbortSignal.timeout(timeoutMs)];
  if (options.signal) signals.push(options.signal);
  let response: HttpResponse;
  let text: string;
  try {
    response = await options.fetch(tokenUrl(options.authUrl), {
      method: "POST",
      headers: { "content-type": body.contentType, accept: "application/json" },
      body: body.payload,
      signal: AbortSignal.any(signals),
    });
    text = await response.text();
  } catch (error) {
    if (options.signal?.aborted) throw new CancelledError();
    const timedOut = error instanceof Error && error.name === "TimeoutError";
    const reason = networkReason(error);
    throw new TokenSendError(
      timedOut
        ? `${what} timed out after ${Math.round(timeoutMs / 1000)}s; check the network and try again`
        : `${what} failed: cannot reach ${new URL(options.authUrl).host} (${reason}); check the network and try again`,
      !timedOut && NOT_SENT_CODES.has(reason) ? "not-sent" : "unknown",
      { cause: error },
    );
  }
  let json: unknown = null;
  try {
    json = text === "" ? null : JSON.parse(text);
  } catch {
    json = null;
  }
  return { status: response.status, json, text };
}

/** A short cause for a network error: the errno-like code, never a URL or body. */
function networkReason(error: unknown): string {
  const cause =
    error instanceof Error ? (error.cause as { code?: unknown } | undefined) : undefined;
  if (cause && typeof cause.code === "string") return cause.code;
  return safeCode(errorMessage(error).split(/\s/)[0]) ?? "network error";
}

function parseGrant(what: string, status: number, json: unknown): TokenGrant {
  const parsed = GrantSchema.safeParse(json);
  if (!parsed.success) {
    throw new MalformedResponseError(
      `${what}: the server answered ${status} with a body that is not a token response; try again later`,
    );
  }
  return {
    accessToken: parsed.data.access_token,
    refreshToken: parsed.data.refresh_token ?? null,
    idToken: parsed.data.id_token ?? null,
    expiresIn: parsed.data.expires_in ?? null,
  };
}

/** Refreshes with a single-use refresh token. Spending it is final, whatever happens next. */
export async function refreshGrant(
  refreshToken: string,
  options: TokenRequestOptions,
): Promise<TokenGrant> {
  const what = "token refresh";
  const { status, json, text } = await post(what, options, {
    contentType: "application/json",
    payload: JSON.stringify({
      client_id: CLIENT_ID,
      grant_type: "refresh_token",
      refresh_token: refreshToken,
    }),
  });
  if (status >= 200 && status < 300) return parseGrant(what, status, json);
  const failure = classify(status, json, text);
  if (failure.permanent) {
    const reason = failure.code ?? `http_${status}`;
    throw new NeedsLoginError(
      `the sign-in has expired (${reason}); run codex-pool login to sign in again`,
      reason,
    );
  }
  throw new TokenSendError(
    `token refresh failed: the server answered ${status}${failure.code ? ` (${failure.code})` : ""}; try again later`,
    "answered",
  );
}

export interface CodeExchange {
  code: string;
  verifier: string;
  redirectUri: string;
}

/** Exchanges an authorization code (browser or device flow) for tokens. */
export async function exchangeCode(
  exchange: CodeExchange,
  options: TokenRequestOptions,
): Promise<TokenGrant & { refreshToken: string }> {
  const what = "sign-in (code exchange)";
  const form = new URLSearchParams({
    grant_type: "authorization_code",
    client_id: CLIENT_ID,
    code: exchange.code,
    code_verifier: exchange.verifier,
    redirect_uri: exchange.redirectUri,
  });
  const { status, json, text } = await post(what, options, {
    contentType: "application/x-www-form-urlencoded",
    payload: form.toString(),
  });
  if (status >= 200 && status < 300) {
    const grant = parseGrant(what, status, json);
    if (grant.refreshToken === null) {
      throw new MalformedResponseError(
        `${what}: the server sent no refresh token; run codex-pool login again`,
      );
    }
    return { ...grant, refreshToken: grant.refreshToken };
  }
  const failure = classify(status, json, text);
  if (status >= 400 && status < 500) {
    throw new AuthError(
      `sign-in was refused by the server (${failure.code ?? `http_${status}`}); run codex-pool login again`,
    );
  }
  throw new TransientError(`${what} failed: the server answered ${status}; try again later`);
}
