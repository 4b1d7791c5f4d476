/**
 * Unsigned JWTs with the claim layout of the real service (docs/chatgpt-backend.md §2.4, docs/codex-cli.md §1c).
 * Codex only base64url-decodes the payload, so `{"alg":"none"}` plus a non-empty third segment works.
 */
import { createHash, randomBytes } from "node:crypto";

export const CODEX_CLIENT_ID = "app_EMoamEEZ73f0CkXaXp7hrann";
const AUTH_CLAIM = "https://api.openai.com/auth";
const PROFILE_CLAIM = "https://api.openai.com/profile";

function b64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value), "utf8").toString("base64url");
}

export function unsignedJwt(payload: Record<string, unknown>): string {
  // codex rejects an empty signature segment, so carry a fixed marker there.
  return `${b64url({ alg: "none", typ: "JWT" })}.${b64url(payload)}.unsigned`;
}

export interface Identity {
  accountId: string;
  email: string;
  plan: string;
}

export function userIdOf(accountId: string): string {
  return `user-${accountId}`;
}

function authClaim(who: Identity): Record<string, string> {
  return {
    chatgpt_account_id: who.accountId,
    chatgpt_plan_type: who.plan,
    chatgpt_user_id: userIdOf(who.accountId),
    user_id: userIdOf(who.accountId),
  };
}

export function mintIdToken(who: Identity, issuer: string, nowSec: number): string {
  return unsignedJwt({
    iss: issuer,
    aud: [CODEX_CLIENT_ID],
    sub: userIdOf(who.accountId),
    iat: nowSec,
    exp: nowSec + 3600,
    email: who.email,
    email_verified: true,
    [AUTH_CLAIM]: authClaim(who),
  });
}

export function mintAccessToken(
  who: Identity,
  issuer: string,
  nowSec: number,
  ttlSeconds: number,
): string {
  return unsignedJwt({
    iss: issuer,
    aud: ["https://api.openai.com/v1"],
    sub: userIdOf(who.accountId),
    iat: nowSec,
    exp: nowSec + ttlSeconds,
    // A random jti keeps every minted token distinct, even within one second.
    jti: randomBytes(8).toString("hex"),
    scp: ["openid", "profile", "email", "offline_access"],
    [AUTH_CLAIM]: authClaim(who),
    [PROFILE_CLAIM]: { email: who.email, email_verified: true },
  });
}

/** "rt-<acct>-g<N>-<random>", the shape the contract promises. */
export function mintRefreshToken(accountId: string, generation: number): string {
  return `rt-${accountId}-g${generation}-${randomBytes(6).toString("hex")}`;
}

export function randomId(prefix: string, bytes = 12): string {
  return `${prefix}${randomBytes(bytes).toString("hex")}`;
}

/** The PKCE S256 challenge of a verifier. */
export function s256(verifier: string): string {
  return createHash("sha256").update(verifier).digest("base64url");
}
