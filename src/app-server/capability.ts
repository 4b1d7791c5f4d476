/**
 * Capability tokens for the loopback WebSockets of live mode (docs/codex-app-server.md §7): a TCP
 * port on 127.0.0.1 is open to every local user, so each listener admits only a client that
 * presents its token as `Authorization: Bearer <token>`. The app-server is given the token's
 * SHA-256 (`--ws-token-sha256`), so the token itself is never on a command line or on disk.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

export function newCapabilityToken(): string {
  return randomBytes(32).toString("base64url");
}

export function tokenSha256Hex(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

/** Constant-time check of an Authorization header against the token. */
export function bearerMatches(header: string | undefined, token: string): boolean {
  if (header === undefined) return false;
  const match = /^Bearer (.+)$/.exec(header);
  if (match === null) return false;
  // Comparing digests keeps the comparison constant-time whatever the lengths.
  const given = createHash("sha256")
    .update(match[1] ?? "", "utf8")
    .digest();
  const wanted = createHash("sha256").update(token, "utf8").digest();
  return timingSafeEqual(given, wanted);
}
