/**
 * Request routing shared by the plain-HTTP and the HTTPS listener: the auth service (issuer routes)
 * and the ChatGPT backend under /backend-api.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { authenticate } from "./backend-auth.js";
import type { SimContext } from "./context.js";
import { BodyError, headerOf, sendJson } from "./http-util.js";
import { pathOf } from "./log.js";
import type { OAuthRoutes } from "./oauth.js";
import { serveResponsesSse } from "./responses-sse.js";
import type { SimRequestKind } from "./types.js";
import { serveUsage } from "./usage.js";

export const RESPONSES_PATH = "/backend-api/codex/responses";

type BackendKind = Extract<
  SimRequestKind,
  "usage" | "accounts-check" | "models" | "turn" | "other"
>;

function backendKind(method: string, path: string): BackendKind {
  if (method === "GET" && path === "/backend-api/wham/usage") return "usage";
  if (method === "GET" && path === "/backend-api/wham/accounts/check") return "accounts-check";
  if (path === "/backend-api/codex/models") return "models";
  if (method === "POST" && path === RESPONSES_PATH) return "turn";
  return "other";
}

function accountsCheckBody(accountId: string, plan: string): Record<string, unknown> {
  return {
    accounts: [
      {
        id: accountId,
        name: `Mock workspace ${accountId}`,
        structure: "personal",
        plan_type: plan,
        // Both must be present or codex fails "workspace routing discovery" (docs/codex-cli.md §0.2).
        workspace_backend_origin: "NO_CONSTRAINT",
        account_routing_override: "NO_CONSTRAINT",
      },
    ],
    account_ordering: [accountId],
    default_account_id: accountId,
  };
}

async function backend(
  ctx: SimContext,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
): Promise<void> {
  const method = req.method ?? "GET";
  const kind = backendKind(method, path);
  if (kind === "other") {
    ctx.log.add({
      method,
      path,
      accountId: headerOf(req, "chatgpt-account-id"),
      kind,
      status: 404,
    });
    return sendJson(res, 404, { detail: "Not Found" });
  }
  const auth = authenticate(ctx, req);
  if (!auth.ok) {
    const transport = kind === "turn" ? { transport: "sse" as const } : {};
    ctx.log.add({
      method,
      path,
      accountId: auth.accountId,
      kind,
      status: 401,
      error: auth.error,
      ...transport,
    });
    return sendJson(res, 401, auth.body);
  }
  const account = auth.account;
  switch (kind) {
    case "usage":
      return serveUsage(ctx, account, path, res);
    case "turn":
      return serveResponsesSse(ctx, account, req, res, path);
    case "models":
      // An empty list keeps codex on its bundled catalog without the ERROR lines a 404 prints.
      ctx.log.add({ method, path, accountId: account.spec.accountId, kind, status: 200 });
      return sendJson(res, 200, { models: [] });
    case "accounts-check": {
      const claimed = headerOf(req, "chatgpt-account-id") ?? account.spec.accountId;
      const plan = (ctx.state.accounts.get(claimed) ?? account).spec.plan ?? "plus";
      ctx.log.add({ method, path, accountId: claimed, kind, status: 200 });
      return sendJson(res, 200, accountsCheckBody(claimed, plan));
    }
  }
}

export function createHandler(
  ctx: SimContext,
  oauth: OAuthRoutes,
): (req: IncomingMessage, res: ServerResponse) => void {
  const route = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = pathOf(req.url);
    if (path.startsWith("/backend-api/")) return backend(ctx, req, res, path);
    if (await oauth.handle(req, res)) return;
    ctx.log.add({ method: req.method ?? "GET", path, accountId: null, kind: "other", status: 404 });
    sendJson(res, 404, { detail: "Not Found" });
  };
  return (req, res) => {
    route(req, res).catch((error: unknown) => {
      if (ctx.closing.aborted) {
        res.destroy();
        return;
      }
      const status = error instanceof BodyError ? error.status : 500;
      if (!res.headersSent)
        sendJson(res, status, { error: { message: String(error), type: "server_error" } });
      else res.destroy();
    });
  };
}
