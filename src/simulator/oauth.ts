/**
 * The auth service (docs/chatgpt-backend.md §2.1–2.3): authorize auto-approves, the code exchange checks
 * PKCE (S256), refresh rotates and reports reuse like the real service, and the device flow is
 * approved after its first poll.
 */
import { randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { SimContext } from "./context.js";
import { DeviceAuthRoutes } from "./device-auth.js";
import { parseFields, readBody, sendJson } from "./http-util.js";
import { pathOf } from "./log.js";
import { s256 } from "./mint.js";
import type { MintedTokens } from "./types.js";

interface PendingCode {
  accountId: string;
  challenge: string;
  redirectUri: string | null;
}

function tokenBody(tokens: MintedTokens, expiresIn: number): Record<string, unknown> {
  return {
    access_token: tokens.accessToken,
    id_token: tokens.idToken,
    refresh_token: tokens.refreshToken,
    expires_in: expiresIn,
    token_type: "Bearer",
    scope: "openid profile email offline_access",
  };
}

export class OAuthRoutes {
  private readonly codes = new Map<string, PendingCode>();
  private readonly ctx: SimContext;
  private readonly device: DeviceAuthRoutes;

  constructor(ctx: SimContext) {
    this.ctx = ctx;
    // Device codes end in an ordinary authorization code with a server-made PKCE pair.
    this.device = new DeviceAuthRoutes(ctx, (code, accountId, challenge) =>
      this.codes.set(code, { accountId, challenge, redirectUri: null }),
    );
  }

  /** Handles the route and returns true, or returns false when the path is not an auth route. */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const path = pathOf(req.url);
    const method = req.method ?? "GET";
    if (method === "GET" && path === "/oauth/authorize") this.authorize(req, res);
    else if (method === "POST" && path === "/oauth/token") await this.token(req, res);
    else if (method === "POST" && path === "/oauth/revoke") await this.revoke(req, res);
    else return this.device.handle(req, res);
    return true;
  }

  private authorize(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? "/", this.ctx.authUrl);
    const q = url.searchParams;
    const redirectUri = q.get("redirect_uri");
    const challenge = q.get("code_challenge");
    const fail = (error: string): void => {
      this.ctx.log.add({
        method: "GET",
        path: url.pathname,
        accountId: null,
        kind: "authorize",
        status: 400,
        error,
      });
      sendJson(res, 400, { error, error_description: `authorize: ${error}` });
    };
    if (redirectUri === null) return fail("missing_redirect_uri");
    if (challenge === null || (q.get("code_challenge_method") ?? "S256") !== "S256") {
      return fail("invalid_code_challenge");
    }
    const hint = q.get("login_hint");
    const account = hint !== null ? this.ctx.state.find(hint) : this.ctx.state.nextToSignIn();
    if (account === undefined) return fail("unknown_account");
    const code = `ac_${randomBytes(16).toString("hex")}`;
    this.codes.set(code, { accountId: account.spec.accountId, challenge, redirectUri });
    const target = new URL(redirectUri);
    target.searchParams.set("code", code);
    const state = q.get("state");
    if (state !== null) target.searchParams.set("state", state);
    target.searchParams.set("scope", q.get("scope") ?? "openid profile email offline_access");
    this.ctx.log.add({
      method: "GET",
      path: url.pathname,
      accountId: account.spec.accountId,
      kind: "authorize",
      status: 302,
    });
    res.writeHead(302, { location: target.toString() });
    res.end();
  }

  private async token(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const fields = parseFields(req, await readBody(req));
    const grant = fields["grant_type"];
    if (grant === "refresh_token") return this.refresh(fields, res, req.headers["user-agent"]);
    if (grant !== "authorization_code") {
      this.ctx.log.add({
        method: "POST",
        path: "/oauth/token",
        accountId: null,
        kind: "other",
        status: 400,
        error: "unsupported_grant_type",
      });
      return sendJson(res, 400, { error: "unsupported_grant_type" });
    }
    const pending = this.codes.get(fields["code"] ?? "");
    const verifier = fields["code_verifier"] ?? "";
    const reject = (error: string, accountId: string | null): void => {
      this.ctx.log.add({
        method: "POST",
        path: "/oauth/token",
        accountId,
        kind: "token-exchange",
        status: 400,
        error,
      });
      sendJson(res, 400, { error: "invalid_grant", error_description: error });
    };
    if (pending === undefined) return reject("unknown or used authorization code", null);
    if (s256(verifier) !== pending.challenge)
      return reject("PKCE verification failed", pending.accountId);
    const redirect = fields["redirect_uri"];
    if (
      pending.redirectUri !== null &&
      redirect !== undefined &&
      redirect !== pending.redirectUri
    ) {
      return reject("redirect_uri mismatch", pending.accountId);
    }
    this.codes.delete(fields["code"] ?? "");
    const account = this.ctx.state.mustGet(pending.accountId);
    account.signedIn = true;
    const tokens = this.ctx.state.mint(pending.accountId);
    this.ctx.log.add({
      method: "POST",
      path: "/oauth/token",
      accountId: pending.accountId,
      kind: "token-exchange",
      status: 200,
    });
    sendJson(res, 200, tokenBody(tokens, account.spec.accessTokenTtlSeconds ?? 3600));
  }

  private refresh(
    fields: Record<string, string>,
    res: ServerResponse,
    userAgent: string | undefined,
  ): void {
    const outcome = this.ctx.state.rotate(fields["refresh_token"] ?? "");
    // Who refreshed (codex, or the pool): live mode must leave every refresh to the pool.
    const base = {
      method: "POST",
      path: "/oauth/token",
      kind: "refresh" as const,
      ...(userAgent !== undefined ? { userAgent } : {}),
    };
    if (outcome.ok) {
      this.ctx.log.add({ ...base, accountId: outcome.accountId, status: 200 });
      return sendJson(res, 200, tokenBody(outcome.tokens, outcome.expiresIn));
    }
    if (outcome.reason === "reused") {
      this.ctx.log.add({
        ...base,
        accountId: outcome.accountId,
        status: 401,
        error: "refresh_token_reused",
      });
      return sendJson(res, 401, {
        error: {
          message:
            "Your refresh token has already been used to generate a new access token. Please try signing in again.",
          type: "invalid_request_error",
          param: null,
          code: "refresh_token_reused",
        },
      });
    }
    this.ctx.log.add({ ...base, accountId: null, status: 400, error: "invalid_grant" });
    sendJson(res, 400, { error: "invalid_grant", error_description: "unknown refresh token" });
  }

  private async revoke(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const fields = parseFields(req, await readBody(req));
    const accountId = this.ctx.state.revoke(fields["token"] ?? fields["refresh_token"] ?? "");
    this.ctx.log.add({
      method: "POST",
      path: "/oauth/revoke",
      accountId,
      kind: "revoke",
      status: 200,
    });
    sendJson(res, 200, {});
  }
}
