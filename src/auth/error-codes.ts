/**
 * The one table of error codes that end a sign-in, shared by the OAuth client (token-client.ts)
 * and every reader of a backend error answer (src/quota/parse-service-error.ts).
 *
 * - A backend 401 whose `error.code` is `token_invalidated` (or `token_revoked`), or whose text
 *   says the token was invalidated or revoked, means the login is dead: refreshing will not help
 *   and must not be tried (docs/chatgpt-backend.md §2.9, §3.3). Any other 401 — `token_expired`
 *   in an `x-error-json` header included — is an access token to refresh.
 * - The OAuth endpoint answers refresh failures as `{"error":{"message","type","param","code"}}`
 *   with HTTP 401 or 400, or as `{"error":"invalid_grant"}`; the codes below are permanent there
 *   (`token_expired` from that endpoint is the refresh token's own expiry).
 */
import { z } from "zod";

/** Backend codes of a dead login: needs-login at once, no refresh attempt. */
export const LOGIN_DEAD_CODES: ReadonlySet<string> = new Set([
  "token_invalidated",
  "token_revoked",
]);

/** OAuth refresh failures that no retry can fix (docs/codex-cli.md §1d, docs/chatgpt-backend.md §3.3). */
export const OAUTH_PERMANENT_CODES: ReadonlySet<string> = new Set([
  ...LOGIN_DEAD_CODES,
  "invalid_grant",
  "refresh_token_reused",
  "refresh_token_expired",
  "refresh_token_invalidated",
  "token_expired",
]);

const REVOKED_PHRASES = [
  "token has been invalidated",
  "token has been revoked",
  "invalidated oauth token",
];

/** True when an error's text says the token was revoked or invalidated (lower-cased compare). */
export function saysRevoked(text: string): boolean {
  const lower = text.toLowerCase();
  return REVOKED_PHRASES.some((p) => lower.includes(p));
}

const ErrorBodySchema = z
  .object({
    error: z
      .union([
        z.string(),
        z.object({ code: z.string().nullish(), type: z.string().nullish() }).passthrough(),
      ])
      .nullish(),
    error_description: z.string().nullish(),
    code: z.string().nullish(),
  })
  .passthrough();

/** Only short identifier-like codes are kept: anything else might carry a secret. */
export function safeCode(code: string | null | undefined): string | null {
  return typeof code === "string" && /^[A-Za-z0-9_.-]{1,64}$/.test(code) ? code : null;
}

/**
 * The error code of an error body — `{"error":"x"}`, `{"error":{"code":"x"}}` (then its `type`),
 * or a top-level `code` — if any.
 */
export function errorCodeOf(body: unknown): string | null {
  const parsed = ErrorBodySchema.safeParse(body);
  if (!parsed.success) return null;
  const { error, code } = parsed.data;
  if (typeof error === "string") return safeCode(error);
  return safeCode(error?.code) ?? safeCode(error?.type) ?? safeCode(code);
}
