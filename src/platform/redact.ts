/**
 * One redaction function guards every line we print or log (docs/decisions.md decision 9). It masks JWTs,
 * bearer credentials, refresh tokens and any JSON field whose name says it holds a token.
 */
const JWT = /\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*/g;
const BEARER = /\b(Bearer)\s+[A-Za-z0-9._~+/=-]+/gi;
const TOKEN_FIELD =
  /("?(?:access_token|refresh_token|id_token|accessToken|refreshToken|idToken|code_verifier|authorization_code|code)"?\s*[:=]\s*)"[^"]*"/gi;
/** The password of a database URL (`postgres://user:secret@host`). */
const URL_PASSWORD = /\b(postgres(?:ql)?:\/\/[^:/@\s]*:)[^@\s]+@/gi;
const REFRESH_TOKEN_SHAPE = /\b(?:rt|rtk|sess)[-_][A-Za-z0-9._-]{6,}/g;

export function redact(text: string): string {
  return text
    .replace(JWT, "[redacted-jwt]")
    .replace(BEARER, "$1 [redacted]")
    .replace(URL_PASSWORD, "$1***@")
    .replace(TOKEN_FIELD, '$1"[redacted]"')
    .replace(REFRESH_TOKEN_SHAPE, "[redacted-token]");
}

/** Known secret values (the tokens in hand) are masked even when they have no recognisable shape. */
export function redactSecrets(text: string, secrets: Iterable<string>): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length >= 8) out = out.split(secret).join("[redacted]");
  }
  return redact(out);
}
