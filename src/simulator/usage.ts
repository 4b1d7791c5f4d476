/** GET /backend-api/wham/usage, answered from the account's usage script. */
import type { ServerResponse } from "node:http";
import type { SimContext } from "./context.js";
import { delay, hangUntilClosed, sendJson } from "./http-util.js";
import { refillIfReset, snapshotOf, usageBody } from "./rate-limits.js";
import type { AccountState } from "./state.js";

export async function serveUsage(
  ctx: SimContext,
  account: AccountState,
  path: string,
  res: ServerResponse,
): Promise<void> {
  const script = account.spec.usage ?? {};
  const accountId = account.spec.accountId;
  // Logged on arrival (status 0 = not answered yet), so a hung request is visible in the log.
  const logged = ctx.log.add({ method: "GET", path, accountId, kind: "usage", status: 0 });
  if (script.hang === true) await hangUntilClosed(ctx.closing);
  if (script.latencyMs !== undefined && script.latencyMs > 0)
    await delay(script.latencyMs, ctx.closing);
  if (script.status !== undefined && script.status !== 200) {
    ctx.log.update(logged, { status: script.status });
    const body = script.body ?? { detail: `simulated status ${script.status}` };
    return sendJson(res, script.status, body);
  }
  ctx.log.update(logged, { status: 200 });
  if (typeof script.body === "string") {
    // A string is sent verbatim, so a test can serve bytes that are not JSON at all.
    res.writeHead(200, { "content-type": "application/json" });
    res.end(script.body);
    return;
  }
  if (script.body !== undefined) return sendJson(res, 200, script.body);
  refillIfReset(account, ctx.state.nowSec());
  sendJson(res, 200, usageBody(snapshotOf(account), ctx.state.nowSec()));
}
