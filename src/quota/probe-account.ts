/**
 * One account's quota probe: a fresh token through the refresher, GET /wham/usage, and on a plain
 * 401 one forced refresh and one retry. A 401 saying the login is dead (`token_invalidated`) is
 * needs-login at once, with no refresh spent on it; `usage_not_included` is its own outcome (the
 * plan has no Codex: permanent); a throttle is a failure that names when to ask again
 * (docs/chatgpt-backend.md §3.3). The outcome is data (never thrown) so that one account's failure
 * cannot disturb the others; nothing here touches the pool file except through the refresher.
 */
import type { Account, ProbeError, QuotaSnapshot, Tokens } from "../pool/schema.js";
import { NeedsLoginError, TransientError, errorMessage } from "../platform/errors.js";
import { RefreshTokenHeldError } from "../pool/live-sessions.js";
import { ProbeFailure, fetchUsage } from "./usage-client.js";
import type { HttpFetch } from "../platform/http.js";

/** The refresher's API as the probe needs it (src/auth/refresher.ts TokenRefresher fits). */
export interface TokenSource {
  ensureFresh(
    accountId: string,
    options?: { force?: boolean; signal?: AbortSignal },
  ): Promise<Account>;
  isFresh(tokens: Tokens): boolean;
}

export interface ProbeDeps {
  backendUrl: string;
  fetch: HttpFetch;
  tokens: TokenSource;
  now: () => Date;
}

export type ProbeOutcome =
  | { kind: "ok"; snapshot: QuotaSnapshot }
  | { kind: "failed"; error: ProbeError }
  /** Not probed: the token belongs to a running codex and is near expiry (its rollout reports quota). */
  | { kind: "skipped"; reason: string }
  /** The service says the plan does not include Codex (`usage_not_included`): permanent. */
  | { kind: "not-included"; message: string | null }
  | {
      kind: "needs-login";
      reason: string;
      /** True when the probe itself found it (a fresh token refused) and the pool must record it;
       * false when the refresher already did. */
      record: boolean;
      /** The refresh token the verdict is about: a newer login in the pool must not be marked. */
      refreshToken: string;
    };

export interface ProbeAccountOptions {
  signal: AbortSignal;
  /** A supervised codex owns this account's refresh token (docs/decisions.md decision 3): never spend it. */
  codexOwned?: boolean;
}

function failed(kind: ProbeError["kind"], message: string, now: Date): ProbeOutcome {
  return { kind: "failed", error: { at: now.toISOString(), kind, message } };
}

function fromError(error: unknown, signal: AbortSignal, now: Date, account: Account): ProbeOutcome {
  if (error instanceof ProbeFailure) {
    const service = error.service;
    if (service?.kind === "not-included") return { kind: "not-included", message: service.message };
    if (service?.kind === "login-dead") {
      return {
        kind: "needs-login",
        reason: service.code,
        record: true,
        refreshToken: account.tokens.refreshToken,
      };
    }
    if (service?.kind === "throttled") {
      const retryAt =
        service.retryAfterMs === null ? null : new Date(now.getTime() + service.retryAfterMs);
      return {
        kind: "failed",
        error: {
          at: now.toISOString(),
          kind: "throttled",
          message: error.message,
          retryAt: retryAt?.toISOString() ?? null,
        },
      };
    }
  }
  // Another process's or machine's codex holds the refresh token: its account is theirs to refresh.
  if (error instanceof RefreshTokenHeldError) return { kind: "skipped", reason: error.message };
  if (error instanceof NeedsLoginError) {
    return {
      kind: "needs-login",
      reason: error.reason,
      record: false,
      refreshToken: account.tokens.refreshToken,
    };
  }
  if (error instanceof ProbeFailure) return failed(error.kind, error.message, now);
  if (signal.aborted) return failed("timeout", "no answer in time", now);
  if (error instanceof TransientError) {
    return failed("network", `token refresh failed (${errorMessage(error)})`, now);
  }
  return failed("auth", `token refresh failed (${errorMessage(error)})`, now);
}

/** A 401 that a fresh access token may cure (not a dead login). */
function isRefreshable(error: unknown): error is ProbeFailure {
  return (
    error instanceof ProbeFailure && error.kind === "auth" && error.service?.kind !== "login-dead"
  );
}

async function usageWith(
  account: Account,
  deps: ProbeDeps,
  signal: AbortSignal,
): Promise<QuotaSnapshot> {
  return fetchUsage({
    backendUrl: deps.backendUrl,
    accessToken: account.tokens.accessToken,
    accountId: account.accountId,
    fetch: deps.fetch,
    signal,
    now: deps.now,
  });
}

/** Probes one account; resolves with an outcome, never rejects. */
export async function probeAccount(
  account: Account,
  deps: ProbeDeps,
  options: ProbeAccountOptions,
): Promise<ProbeOutcome> {
  const { signal } = options;
  let current = account;
  try {
    if (options.codexOwned) {
      if (!deps.tokens.isFresh(account.tokens)) {
        return {
          kind: "skipped",
          reason: "its refresh token belongs to the codex of a running session",
        };
      }
    } else if (!deps.tokens.isFresh(account.tokens)) {
      // Only a token near expiry goes through the refresher; a fresh one is used as read.
      current = await deps.tokens.ensureFresh(account.id, { signal });
    }
    try {
      return { kind: "ok", snapshot: await usageWith(current, deps, signal) };
    } catch (error) {
      if (!isRefreshable(error) || options.codexOwned) throw error;
    }
    // A 401 with a token we believed valid: it may have been revoked by a rotation elsewhere.
    current = await deps.tokens.ensureFresh(account.id, { force: true, signal });
    try {
      return { kind: "ok", snapshot: await usageWith(current, deps, signal) };
    } catch (error) {
      if (isRefreshable(error)) {
        return {
          kind: "needs-login",
          reason: "the usage endpoint refused a freshly refreshed token (401)",
          record: true,
          refreshToken: current.tokens.refreshToken,
        };
      }
      throw error;
    }
  } catch (error) {
    return fromError(error, signal, deps.now(), current);
  }
}
