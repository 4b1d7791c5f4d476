/**
 * Identity from the ChatGPT JWTs (docs/chatgpt-backend.md §2.4). The payload is only base64url-decoded:
 * codex and the service's clients do no signature check either. Every claim is optional.
 */
import { z } from "zod";

const AuthClaimSchema = z
  .object({
    chatgpt_account_id: z.string().optional(),
    chatgpt_plan_type: z.string().optional(),
    chatgpt_user_id: z.string().optional(),
    user_id: z.string().optional(),
    email: z.string().optional(),
  })
  .partial();

const ClaimsSchema = z
  .object({
    exp: z.number().optional(),
    email: z.string().optional(),
    chatgpt_account_id: z.string().optional(),
    account_id: z.string().optional(),
    "https://api.openai.com/auth": AuthClaimSchema.optional(),
    "https://api.openai.com/profile": z
      .object({ email: z.string().optional() })
      .partial()
      .optional(),
  })
  .partial();

export type JwtClaims = z.infer<typeof ClaimsSchema>;

/** Decodes a JWT payload, or returns null for anything that is not a well-formed JWT. */
export function decodeJwt(token: string): JwtClaims | null {
  const parts = token.split(".");
  if (parts.length !== 3 || parts[1] === undefined || parts[1] === "") return null;
  try {
    const json: unknown = JSON.parse(Buffer.from(parts[1], "base64url").toString("utf8"));
    const parsed = ClaimsSchema.safeParse(json);
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

export interface Identity {
  accountId: string | null;
  email: string | null;
  plan: string | null;
  userId: string | null;
}

function normaliseEmail(value: string | undefined): string | null {
  const email = value?.trim().toLowerCase();
  return email !== undefined && email.includes("@") ? email : null;
}

/** Account id, email and plan from the id token first, then the access token. */
export function identityFromTokens(idToken: string, accessToken: string): Identity {
  const id = decodeJwt(idToken);
  const access = decodeJwt(accessToken);
  const idAuth = id?.["https://api.openai.com/auth"];
  const accessAuth = access?.["https://api.openai.com/auth"];
  return {
    accountId:
      accessAuth?.chatgpt_account_id ??
      idAuth?.chatgpt_account_id ??
      id?.chatgpt_account_id ??
      access?.chatgpt_account_id ??
      id?.account_id ??
      access?.account_id ??
      null,
    email:
      normaliseEmail(id?.email) ??
      normaliseEmail(id?.["https://api.openai.com/profile"]?.email) ??
      normaliseEmail(access?.["https://api.openai.com/profile"]?.email) ??
      normaliseEmail(accessAuth?.email) ??
      normaliseEmail(access?.email),
    plan: idAuth?.chatgpt_plan_type ?? accessAuth?.chatgpt_plan_type ?? null,
    userId: idAuth?.chatgpt_user_id ?? idAuth?.user_id ?? accessAuth?.chatgpt_user_id ?? null,
  };
}

/** The access token's expiry from its `exp` claim, or null when it has none. */
export function tokenExpiry(accessToken: string): Date | null {
  const exp = decodeJwt(accessToken)?.exp;
  return typeof exp === "number" && Number.isFinite(exp) ? new Date(exp * 1000) : null;
}
