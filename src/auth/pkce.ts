/**
 * PKCE and the authorize URL of the browser sign-in (docs/chatgpt-backend.md §2.1): a 64-byte verifier,
 * its S256 challenge, a 16-byte hex state, and the exact query parameters the Codex client sends.
 */
import { createHash, randomBytes } from "node:crypto";
import { CLIENT_ID, SCOPE, authorizeEndpoint } from "./oauth.js";

export interface Pkce {
  readonly verifier: string;
  readonly challenge: string;
}

export function challengeFor(verifier: string): string {
  return createHash("sha256").update(verifier).digest("base64url");
}

export function createPkce(): Pkce {
  const verifier = randomBytes(64).toString("base64url");
  return { verifier, challenge: challengeFor(verifier) };
}

export function createState(): string {
  return randomBytes(16).toString("hex");
}

export interface AuthorizeParams {
  readonly challenge: string;
  readonly state: string;
  readonly redirectUri: string;
  /** `prompt=login`: always ask, so a second account can be added while one is signed in. */
  readonly forceLogin?: boolean;
}

export function authorizeUrl(authUrl: string, params: AuthorizeParams): string {
  const url = new URL(authorizeEndpoint(authUrl));
  const query: [string, string][] = [
    ["response_type", "code"],
    ["client_id", CLIENT_ID],
    ["redirect_uri", params.redirectUri],
    ["scope", SCOPE],
    ["code_challenge", params.challenge],
    ["code_challenge_method", "S256"],
    ["id_token_add_organizations", "true"],
    ["codex_cli_simplified_flow", "true"],
    ["state", params.state],
    ["originator", "codex_cli_rs"],
  ];
  if (params.forceLogin !== false) query.push(["prompt", "login"]);
  for (const [key, value] of query) url.searchParams.set(key, value);
  return url.toString();
}
