/**
 * Codex's `auth.json` (docs/codex-cli.md §1c): read, validate, and write it back atomically with mode
 * 0600, keeping every key we do not know about.
 *
 * { "auth_mode": "chatgpt", "OPENAI_API_KEY": null,
 *   "tokens": { "id_token", "access_token", "refresh_token", "account_id" },
 *   "last_refresh": "2026-11-24T01:20:00Z" }
 */
import { z } from "zod";
import { readFileIfExists, writeFileAtomic } from "../platform/atomic-file.js";
import { classed, errorMessage, hasErrorCode } from "../platform/errors.js";
import type { Tokens } from "../pool/schema.js";
import { identityFromTokens, tokenExpiry } from "../auth/jwt.js";

const AuthTokensSchema = z
  .object({
    id_token: z.string().optional(),
    access_token: z.string().optional(),
    refresh_token: z.string().optional(),
    account_id: z.string().nullish(),
  })
  .passthrough();

const AuthFileSchema = z
  .object({
    auth_mode: z.string().nullish(),
    OPENAI_API_KEY: z.string().nullish(),
    tokens: AuthTokensSchema.nullish(),
    last_refresh: z.string().nullish(),
  })
  .passthrough();

export type AuthFile = z.infer<typeof AuthFileSchema>;

/** A Codex auth.json that is missing, unreadable or holds no ChatGPT sign-in (exit 66). */
export class AuthFileError extends classed("auth_file") {}

/** The ChatGPT tokens held in an auth.json, or null when it holds none (API-key mode). */
export interface AuthFileTokens {
  idToken: string;
  accessToken: string;
  refreshToken: string;
  accountId: string | null;
  lastRefresh: Date | null;
}

export async function readAuthFile(file: string): Promise<AuthFile | null> {
  let text: string | null;
  try {
    text = await readFileIfExists(file);
  } catch (error) {
    const hint = hasErrorCode(error, "EACCES", "EPERM") ? "fix its permissions" : "check the path";
    throw new AuthFileError(`cannot read ${file} (${errorMessage(error)}); ${hint}`, {
      cause: error,
    });
  }
  if (text === null) return null;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new AuthFileError(`${file} is not valid JSON; sign in with codex again or fix the file`, {
      cause: error,
    });
  }
  const parsed = AuthFileSchema.safeParse(json);
  if (!parsed.success) {
    throw new AuthFileError(`${file} is not a Codex auth.json (unexpected shape)`, {
      cause: parsed.error,
    });
  }
  return parsed.data;
}

export function tokensOf(auth: AuthFile): AuthFileTokens | null {
  const t = auth.tokens;
  if (!t?.access_token || !t.refresh_token) return null;
  const last = auth.last_refresh ? new Date(auth.last_refresh) : null;
  return {
    idToken: t.id_token ?? "",
    accessToken: t.access_token,
    refreshToken: t.refresh_token,
    accountId: t.account_id ?? null,
    lastRefresh: last !== null && !Number.isNaN(last.getTime()) ? last : null,
  };
}

/** Pool tokens in the form codex expects, merged over an existing file's unknown keys. */
export function authFileFor(
  tokens: Tokens,
  accountId: string,
  existing: AuthFile | null,
  now: Date,
): AuthFile {
  return {
    ...(existing ?? {}),
    auth_mode: "chatgpt",
    OPENAI_API_KEY: null,
    tokens: {
      ...(existing?.tokens ?? {}),
      id_token: tokens.idToken,
      access_token: tokens.accessToken,
      refresh_token: tokens.refreshToken,
      account_id: accountId,
    },
    // codex treats token data without last_refresh as unavailable (docs/codex-cli.md §1c).
    last_refresh: tokens.lastRefreshAt ?? now.toISOString(),
  };
}

export async function writeAuthFile(file: string, auth: AuthFile): Promise<void> {
  await writeFileAtomic(file, JSON.stringify(auth, null, 2) + "\n", { mode: 0o600 });
}

/** Which ChatGPT account (workspace) a set of auth.json tokens serves, and whose they are. */
export interface TokenOwner {
  readonly accountId: string | null;
  readonly email: string | null;
  readonly plan: string | null;
}

/**
 * The one rule for "which account do these tokens belong to" (adopting what a child wrote,
 * `import`, `switch`, `doctor`): the file's `tokens.account_id` first, then the JWT claim.
 * `account_id` is what codex sends as `chatgpt-account-id` (docs/codex-cli.md §1c), so it names
 * the workspace the tokens actually serve; the claim names the login's default workspace. After a
 * workspace switch the two differ, and attributing by the claim would file one workspace's tokens
 * under another's row. A file without `account_id` (older codex) falls back to the claim. Email
 * and plan come from the JWTs (docs/chatgpt-backend.md §2.4).
 */
export function tokenOwner(tokens: AuthFileTokens): TokenOwner {
  const identity = identityFromTokens(tokens.idToken, tokens.accessToken);
  return {
    accountId: tokens.accountId ?? identity.accountId,
    email: identity.email,
    plan: identity.plan,
  };
}

/** Pool-shaped tokens from an auth.json's tokens. */
export function poolTokensFrom(t: AuthFileTokens): Tokens {
  return {
    accessToken: t.accessToken,
    refreshToken: t.refreshToken,
    idToken: t.idToken,
    accessTokenExpiresAt: tokenExpiry(t.accessToken)?.toISOString() ?? null,
    lastRefreshAt: t.lastRefresh?.toISOString() ?? null,
  };
}
