/**
 * Unsigned ({"alg":"none"}) ChatGPT-style JWTs for fixtures, with the claim layout of
 * docs/chatgpt-backend.md §2.4: the id token carries `email` and the auth claim with the account id and
 * plan; the access token carries `exp`, the auth claim and the profile email.
 */
import { randomBytes } from "node:crypto";

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString("base64url");

export function unsignedJwt(payload: Record<string, unknown>): string {
  return `${b64({ alg: "none", typ: "JWT" })}.${b64(payload)}.unsigned`;
}

export interface FixtureIdentity {
  accountId: string;
  email: string;
  plan?: string;
  /** Access-token expiry, epoch seconds; default one hour from now. */
  exp?: number;
}

export interface FixtureTokens {
  idToken: string;
  accessToken: string;
  /** Deliberately not shaped like a known token, so output redaction cannot hide a leak. */
  refreshToken: string;
}

export function fixtureTokens(id: FixtureIdentity): FixtureTokens {
  const auth = {
    chatgpt_account_id: id.accountId,
    chatgpt_plan_type: id.plan ?? "plus",
    chatgpt_user_id: `user-${id.accountId}`,
  };
  const nonce = randomBytes(8).toString("hex");
  return {
    idToken: unsignedJwt({ email: id.email, "https://api.openai.com/auth": auth, nonce }),
    accessToken: unsignedJwt({
      exp: id.exp ?? Math.floor(Date.now() / 1000) + 3600,
      "https://api.openai.com/auth": auth,
      "https://api.openai.com/profile": { email: id.email },
      nonce,
    }),
    refreshToken: `secretrefresh${nonce}${id.accountId.replace(/[^a-z0-9]/gi, "")}`,
  };
}

/** A Codex auth.json (docs/codex-cli.md §1c) holding these tokens, plus any extra keys. */
export function authJson(
  tokens: FixtureTokens,
  accountId: string,
  lastRefresh: string,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    auth_mode: "chatgpt",
    OPENAI_API_KEY: null,
    tokens: {
      id_token: tokens.idToken,
      access_token: tokens.accessToken,
      refresh_token: tokens.refreshToken,
      account_id: accountId,
    },
    last_refresh: lastRefresh,
    ...extra,
  };
}

/** Every secret string of these tokens, including the JWT payload segments on their own. */
export function secretsOf(tokens: FixtureTokens): string[] {
  const payload = (jwt: string): string => jwt.split(".")[1] ?? jwt;
  return [
    tokens.idToken,
    tokens.accessToken,
    tokens.refreshToken,
    payload(tokens.idToken),
    payload(tokens.accessToken),
  ];
}
