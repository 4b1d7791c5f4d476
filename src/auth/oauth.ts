/**
 * The OAuth client facts of the Codex CLI's public client (docs/chatgpt-backend.md §2.1–2.2). Every URL
 * is built under the configured issuer base (`authUrl`), so the simulator can stand in for it.
 */
export const CLIENT_ID = "app_EMoamEEZ73f0CkXaXp7hrann";
export const SCOPE = "openid profile email offline_access";
/** The client registration fixes this port: the redirect URI must be exactly this string. */
export const CALLBACK_PORT = 1455;
export const CALLBACK_PATH = "/auth/callback";

export function redirectUriFor(port: number): string {
  return `http://localhost:${port}${CALLBACK_PATH}`;
}

/** `{authUrl}{path}` with exactly one slash between them (authUrl may carry a path prefix). */
export function endpoint(authUrl: string, path: string): string {
  return authUrl.replace(/\/+$/, "") + path;
}

export const tokenUrl = (authUrl: string): string => endpoint(authUrl, "/oauth/token");
export const authorizeEndpoint = (authUrl: string): string => endpoint(authUrl, "/oauth/authorize");
export const deviceUserCodeUrl = (authUrl: string): string =>
  endpoint(authUrl, "/api/accounts/deviceauth/usercode");
export const deviceTokenUrl = (authUrl: string): string =>
  endpoint(authUrl, "/api/accounts/deviceauth/token");
export const deviceVerificationUrl = (authUrl: string): string =>
  endpoint(authUrl, "/codex/device");
export const deviceRedirectUri = (authUrl: string): string =>
  endpoint(authUrl, "/deviceauth/callback");
