/** POST /backend-api/codex/responses answered as an SSE stream: codex's fallback transport. */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { SimContext } from "./context.js";
import { clientHeaders, parseJson, readBody, sendJson } from "./http-util.js";
import { rateLimitHeaders } from "./rate-limits.js";
import type { AccountState } from "./state.js";
import { kindOf, parseResponsesRequest, runTurn, userTextsOf } from "./turn-script.js";

export async function serveResponsesSse(
  ctx: SimContext,
  account: AccountState,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
): Promise<void> {
  const accountId = account.spec.accountId;
  const request = parseResponsesRequest(parseJson(await readBody(req)));
  if (request === null) {
    ctx.log.add({
      method: "POST",
      path,
      accountId,
      kind: "other",
      status: 400,
      error: "bad request body",
      transport: "sse",
    });
    return sendJson(res, 400, {
      error: { message: "request body is not a Responses request", type: "invalid_request_error" },
    });
  }
  const kind = kindOf(request);
  const userTexts = kind === "turn" ? userTextsOf(request) : undefined;
  const entry = {
    method: "POST",
    path,
    accountId,
    kind,
    transport: "sse" as const,
    ...(userTexts ? { userTexts, ...clientHeaders(req) } : {}),
  };
  // Logged on arrival (status 0 = not answered yet), so a hung turn is visible in the log.
  const logged = ctx.log.add({ ...entry, status: 0 });
  const outcome = await runTurn(ctx, account, request, kind);
  switch (outcome.type) {
    case "fail":
      ctx.log.update(logged, { status: outcome.status, error: `simulated ${outcome.status}` });
      return sendJson(res, outcome.status, outcome.body, outcome.headers);
    case "limit":
      ctx.log.update(logged, { status: 429, error: "usage_limit_reached" });
      return sendJson(res, 429, outcome.body, outcome.headers);
    case "events": {
      ctx.log.update(logged, { status: 200 });
      res.writeHead(200, {
        "content-type": "text/event-stream",
        "cache-control": "no-cache",
        ...(outcome.snapshot ? rateLimitHeaders(outcome.snapshot) : {}),
      });
      for (const event of outcome.events)
        res.write(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
      res.end();
      return;
    }
  }
}
