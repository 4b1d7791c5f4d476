/** Bearer-token check for the backend routes: the token, not a header, says who the caller is. */
import type { IncomingMessage } from "node:http";
import type { SimContext } from "./context.js";
import { bearerOf, headerOf } from "./http-util.js";
import type { AccountState } from "./state.js";

export type BackendAuth =
  | { ok: true; account: AccountState }
  | {
      ok: false;
      status: 401;
      body: Record<string, unknown>;
      error: string;
      accountId: string | null;
    };

export function authenticate(ctx: SimContext, req: IncomingMessage): BackendAuth {
  const token = bearerOf(req);
  const claimed = headerOf(req, "chatgpt-account-id");
  if (token === null) {
    return {
      ok: false,
      status: 401,
      error: "missing_token",
      accountId: claimed,
      body: unauthorized("missing_token"),
    };
  }
  const access = ctx.state.checkAccess(token);
  if ("refused" in access) {
    const code = access.refused === "expired" ? "token_expired" : "invalid_token";
    return {
      ok: false,
      status: 401,
      error: code,
      accountId: access.accountId ?? claimed,
      body: unauthorized(code),
    };
  }
  return { ok: true, account: ctx.state.mustGet(access.accountId) };
}

function unauthorized(code: string): Record<string, unknown> {
  const message =
    code === "token_expired"
      ? "Provided authentication token is expired. Please try signing in again."
      : "Could not validate your credentials. Please try signing in again.";
  return { error: { message, type: "invalid_request_error", param: null, code } };
}
