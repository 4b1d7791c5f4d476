/**
 * The simulator's public contract (shared with every engineer's tests; see the simulator API note).
 * Plain data only: the behaviour lives in the other files of this folder.
 */

/** A window as the real service reports it (docs/chatgpt-backend.md §3.1). */
export interface SimWindow {
  /** `limit_window_seconds`: 17940 (5 h), 604740 (a week), 2592000 (30 days), any other. */
  seconds: number;
  /** May be a float, or above 100. */
  usedPercent: number;
  /** Seconds until it resets; default its whole length (a window that has not started). */
  resetAfterSeconds?: number;
}

/** An allowance that is not a window, numbers as the service sends them (often strings). */
export interface SimAllowance {
  limit?: number | string;
  used?: number | string;
  remaining?: number | string;
  /** A spend cap's `used_percent` (may exceed 100). */
  usedPercent?: number;
  /** A credit limit's `remaining_percent`. */
  remainingPercent?: number;
  resetAfterSeconds?: number;
}

/**
 * A limit on one model (`additional_rate_limits[]`, and the `x-codex-<feature>-*` headers of a
 * turn). An entry may carry only its name.
 */
export interface SimModelLimit {
  limitName: string;
  meteredFeature?: string;
  windows?: SimWindow[];
}

/** What GET /backend-api/wham/usage answers for an account. */
export interface SimUsageScript {
  /** 5h window; when unset it follows the turn script (last reported %, 100 after a 429). */
  primaryUsedPercent?: number;
  /** Epoch seconds; default start + 5h. */
  primaryResetAt?: number;
  /** Weekly window, default 0. */
  secondaryUsedPercent?: number;
  /** Epoch seconds; default start + 7d. */
  secondaryResetAt?: number;
  /**
   * The real service's shapes (docs/chatgpt-backend.md §3.1), additive to the contract; any of
   * them replaces the default 5h + weekly pair in /wham/usage and in the turns' headers and
   * `codex.rate_limits` events. `windows`: primary first, at most two (`[]`: both null).
   */
  windows?: SimWindow[];
  /** A workspace spend cap; reached, the answer has `rate_limit: null` (a business seat). */
  spendControl?: SimAllowance & { reached: boolean };
  /** An individual credit allowance in `rate_limit` with both windows null (an enterprise seat). */
  individualLimit?: SimAllowance;
  modelLimits?: SimModelLimit[];
  /** The code-review allowance's windows (`code_review_rate_limit`). */
  codeReview?: SimWindow[];
  /** `rate_limit.allowed` / `limit_reached` as sent: the real service lets them disagree. */
  allowed?: boolean;
  limitReached?: boolean;
  /** Answer this HTTP status instead (e.g. 401, 500). */
  status?: number;
  /** Answer this raw JSON body instead (malformed answers). */
  body?: unknown;
  latencyMs?: number;
  /** Never answer. */
  hang?: boolean;
}

/** How model turns (Responses API over WS/SSE) behave for an account. */
export interface SimTurnScript {
  /** Answer this many turns, then 429 usage_limit_reached. null/undefined = unlimited. */
  limitAfter?: number | null;
  /** Primary used % reported (headers + codex.rate_limits) after turn i (0-based). */
  usedPercentByTurn?: number[];
  /** Epoch seconds reported in the 429 body and headers. */
  resetsAt?: number;
  latencyMs?: number;
  hang?: boolean;
  /** Fail every turn with this status (e.g. 401). */
  failStatus?: number;
  /**
   * false: refuse the WebSocket upgrade (426) so clients use HTTP POST + SSE. Default true.
   * Additive to the contract.
   */
  websocket?: boolean;
  /**
   * true: every request on an open Responses WebSocket re-checks the bearer token the socket was
   * opened with (401 error frame once it has expired or is unknown). Default false: checked at the
   * upgrade only. Additive to the contract.
   */
  recheckToken?: boolean;
  /**
   * Refuse every real turn (not prewarms or titles) with this error, as the service does for
   * `usage_not_included` or a `rate_limit_exceeded` throttle (docs/chatgpt-backend.md §3.3): an
   * HTTP answer over SSE, an error frame over the WebSocket. Additive to the contract.
   */
  turnError?: SimTurnError;
}

export interface SimTurnError {
  status: number;
  /** The JSON body, e.g. {"error":{"type":"usage_not_included","message":"…"}}. */
  body: Record<string, unknown>;
  headers?: Record<string, string>;
}

export interface SimAccountSpec {
  accountId: string;
  email: string;
  plan?: string;
  accessTokenTtlSeconds?: number;
  usage?: SimUsageScript;
  turns?: SimTurnScript;
}

export type SimRequestKind =
  | "authorize"
  | "token-exchange"
  | "refresh"
  | "revoke"
  | "device-usercode"
  | "device-token"
  | "usage"
  | "accounts-check"
  | "models"
  | "turn"
  | "prewarm"
  | "title"
  | "other";

export interface SimRequest {
  at: number;
  /** The HTTP method, or "WS" for a frame (or refused upgrade) on the Responses WebSocket. */
  method: string;
  /** Path without the query string (the log never holds codes or tokens). */
  path: string;
  accountId: string | null;
  kind: SimRequestKind;
  /** 0 while not answered yet (scripted latency or hang). */
  status: number;
  error?: string;
  /** For turns: the user input_text items in order, history included. */
  userTexts?: string[];
  transport?: "ws" | "sse";
  /**
   * For turns: the client's `originator` and `user-agent` headers (who the service sees; the
   * app-server takes them from its clients, docs/codex-app-server.md §4); for refreshes, the
   * user-agent too (codex, or codex-pool's own). Additive to the contract.
   */
  originator?: string;
  userAgent?: string;
}

export interface MintedTokens {
  idToken: string;
  accessToken: string;
  refreshToken: string;
}

export interface Simulator {
  /** http://127.0.0.1:PORT — OAuth issuer base. */
  readonly authUrl: string;
  /** https://127.0.0.1:TLSPORT/backend-api */
  readonly backendUrl: string;
  /** http://127.0.0.1:PORT/backend-api — the same routes over plain HTTP. */
  readonly httpBackendUrl: string;
  /** PEM of the throwaway CA. */
  readonly caFile: string;
  /** http://127.0.0.1:GUARDPORT — records and refuses every proxied request. */
  readonly proxyUrl: string;
  /** What reached the guard, e.g. "CONNECT chatgpt.com:443" or "GET http://host/path". */
  strayRequests(): string[];
  setAccount(spec: SimAccountSpec): void;
  /** Shallow merge; `usage` and `turns` are merged one level deeper. */
  patchAccount(accountId: string, patch: Partial<SimAccountSpec>): void;
  mintTokens(accountId: string, opts?: { ttlSeconds?: number }): MintedTokens;
  /**
   * Makes an access token expire now (a token that outlived its lifetime, without waiting for
   * it); false if the simulator never issued it. Additive to the contract.
   */
  expireAccessToken(accessToken: string): boolean;
  authJsonFor(accountId: string): object;
  requests(): SimRequest[];
  /**
   * Resolves with the first logged request (already logged or future) matching `predicate`, e.g. a
   * turn in flight (`status === 0`); rejects after timeoutMs (default 10 s). Additive to the contract.
   */
  waitForRequest(predicate: (r: SimRequest) => boolean, timeoutMs?: number): Promise<SimRequest>;
  refreshCount(accountId?: string): number;
  close(): Promise<void>;
}

export interface SimulatorOptions {
  accounts: SimAccountSpec[];
  /** 0700 scratch dir for the CA; default a fresh temp dir (removed on close). */
  dir?: string;
}
