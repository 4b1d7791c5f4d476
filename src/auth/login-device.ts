/**
 * Device-code sign-in (docs/chatgpt-backend.md §2.2). The endpoint is not RFC 8628: a bare 403 means
 * "not approved yet" and a bare 404 "not propagated yet" — both mean keep polling at the interval.
 * 408/429/5xx-gateway answers are retried honouring Retry-After. On approval the server hands back
 * the code AND the PKCE verifier it generated, which are exchanged like a browser code.
 */
import { z } from "zod";
import { systemClock, sleep as realSleep, type Clock } from "../platform/clock.js";
import {
  AuthError,
  CancelledError,
  MalformedResponseError,
  TransientError,
} from "../platform/errors.js";
import {
  CLIENT_ID,
  deviceRedirectUri,
  deviceTokenUrl,
  deviceUserCodeUrl,
  deviceVerificationUrl,
} from "./oauth.js";
import { exchangeCode, type TokenGrant } from "./token-client.js";
import type { HttpFetch } from "../platform/http.js";

export interface DeviceLoginOptions {
  authUrl: string;
  fetch: HttpFetch;
  /** Overall budget for the approval; also capped at 15 min and by the server's expiry. */
  timeoutMs: number;
  notify: (line: string) => void;
  clock?: Clock;
  /** Injected so tests need not wait the server's interval. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  signal?: AbortSignal;
}

const MAX_BUDGET_MS = 15 * 60_000;
const DEFAULT_INTERVAL_MS = 5_000;
const RETRY_STATUSES = new Set([408, 429, 502, 503, 504]);

const NumberLike = z.union([
  z.number(),
  z
    .string()
    .regex(/^\d+(\.\d+)?$/)
    .transform(Number),
]);

const UserCodeSchema = z.object({
  device_auth_id: z.string().min(1),
  user_code: z.string().min(1).optional(),
  usercode: z.string().min(1).optional(),
  interval: NumberLike.optional(),
  expires_at: z.union([z.number(), z.string()]).optional(),
  expires_in: NumberLike.optional(),
});

const ApprovalSchema = z.object({
  authorization_code: z.string().min(1),
  code_verifier: z.string().min(1),
});

/** `expires_at` as epoch ms; it may come as epoch seconds, epoch ms or an ISO date. */
function expiryMs(value: number | string | undefined): number | null {
  if (value === undefined) return null;
  if (typeof value === "number") return value > 1e12 ? value : value * 1000;
  if (/^\d+$/.test(value)) return expiryMs(Number(value));
  const parsed = Date.parse(value);
  return Number.isNaN(parsed) ? null : parsed;
}

/** Retry-After (seconds or an HTTP date) in ms, at least 1 s, with ±10 % jitter. */
export function retryAfterMs(header: string | null, fallbackMs: number, now: number): number {
  let ms = fallbackMs;
  if (header !== null) {
    const trimmed = header.trim();
    if (/^\d+(\.\d+)?$/.test(trimmed)) ms = Number(trimmed) * 1000;
    else if (!Number.isNaN(Date.parse(trimmed))) ms = Date.parse(trimmed) - now;
  }
  ms = Math.max(1000, ms);
  return Math.round(ms * (0.9 + Math.random() * 0.2));
}

async function postJson(
  options: DeviceLoginOptions,
  url: string,
  body: unknown,
): Promise<{ status: number; json: unknown; retryAfter: string | null }> {
  try {
    const response = await options.fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify(body),
      signal: AbortSignal.any([
        AbortSignal.timeout(30_000),
        ...(options.signal ? [options.signal] : []),
      ]),
    });
    const text = await response.text();
    let json: unknown = null;
    try {
      json = text === "" ? null : JSON.parse(text);
    } catch {
      json = null;
    }
    return { status: response.status, json, retryAfter: response.headers.get("retry-after") };
  } catch (error) {
    if (options.signal?.aborted) throw new CancelledError();
    throw new TransientError(
      `device sign-in: cannot reach ${new URL(options.authUrl).host}; check the network and try again`,
      { cause: error },
    );
  }
}

export async function deviceLogin(options: DeviceLoginOptions): Promise<TokenGrant> {
  const clock = options.clock ?? systemClock;
  const pause = options.sleep ?? realSleep;
  const start = await postJson(options, deviceUserCodeUrl(options.authUrl), {
    client_id: CLIENT_ID,
  });
  if (start.status === 404) {
    throw new AuthError(
      "device sign-in is not enabled on this server; use codex-pool login (browser) or --no-browser",
    );
  }
  if (start.status < 200 || start.status >= 300) {
    throw new TransientError(
      `device sign-in could not start: the server answered ${start.status}; try again later`,
    );
  }
  const parsed = UserCodeSchema.safeParse(start.json);
  const userCode = parsed.success ? (parsed.data.user_code ?? parsed.data.usercode) : undefined;
  if (!parsed.success || userCode === undefined) {
    throw new MalformedResponseError(
      "device sign-in: the server's answer has no device code; try again later",
    );
  }
  const { device_auth_id: deviceAuthId } = parsed.data;
  const intervalMs = Math.max(1000, (parsed.data.interval ?? DEFAULT_INTERVAL_MS / 1000) * 1000);
  const startedAt = clock.now();
  let deadline = startedAt + Math.min(options.timeoutMs, MAX_BUDGET_MS);
  const serverExpiry =
    expiryMs(parsed.data.expires_at) ??
    (parsed.data.expires_in !== undefined ? startedAt + parsed.data.expires_in * 1000 : null);
  if (serverExpiry !== null) deadline = Math.min(deadline, serverExpiry);

  options.notify(`To sign in, open ${deviceVerificationUrl(options.authUrl)} and enter the code:`);
  options.notify(`  ${userCode}`);
  options.notify(`Waiting for approval (up to ${Math.round((deadline - startedAt) / 1000)}s)…`);

  for (;;) {
    const poll = await postJson(options, deviceTokenUrl(options.authUrl), {
      device_auth_id: deviceAuthId,
      user_code: userCode,
    }).catch((error: unknown) => {
      if (error instanceof TransientError) return null; // a network blip: poll again
      throw error;
    });
    let waitMs = intervalMs;
    if (poll !== null && poll.status >= 200 && poll.status < 300) {
      const approval = ApprovalSchema.safeParse(poll.json);
      if (!approval.success) {
        throw new MalformedResponseError(
          "device sign-in: the approval carries no authorization code; try again",
        );
      }
      options.notify("Approved; fetching tokens…");
      return exchangeCode(
        {
          code: approval.data.authorization_code,
          verifier: approval.data.code_verifier,
          redirectUri: deviceRedirectUri(options.authUrl),
        },
        {
          authUrl: options.authUrl,
          fetch: options.fetch,
          ...(options.signal ? { signal: options.signal } : {}),
        },
      );
    }
    if (poll !== null && RETRY_STATUSES.has(poll.status)) {
      waitMs = retryAfterMs(poll.retryAfter, intervalMs, clock.now());
    } else if (poll !== null && poll.status !== 403 && poll.status !== 404) {
      throw new AuthError(
        `device sign-in failed: the server answered ${poll.status}; run codex-pool login --device again`,
      );
    }
    const left = deadline - clock.now();
    if (left <= 0) {
      throw new AuthError(
        `the device code was not approved within ${Math.round((deadline - startedAt) / 1000)}s; run codex-pool login --device again`,
      );
    }
    try {
      await pause(Math.min(waitMs, left), options.signal);
    } catch (error) {
      if (options.signal?.aborted) throw new CancelledError();
      throw error;
    }
  }
}
