/**
 * What one Responses request gets, from the account's turn script: its kind (prewarm, title, turn),
 * the user texts it carries, and the outcome (answer, usage-limit 429, scripted failure, hang).
 */
import { z } from "zod";
import type { SimContext } from "./context.js";
import { delay, hangUntilClosed } from "./http-util.js";
import { randomId } from "./mint.js";
import { rateLimitHeaders, refillIfReset, turnSnapshot, type Snapshot } from "./rate-limits.js";
import { answerEvents, emptyEvents, type ResponseEvent } from "./responses-events.js";
import type { AccountState } from "./state.js";

const ContentSchema = z
  .object({ type: z.string().optional(), text: z.string().optional() })
  .passthrough();
const ItemSchema = z
  .object({
    type: z.string().optional(),
    role: z.string().optional(),
    content: z.union([z.string(), z.array(ContentSchema)]).optional(),
  })
  .passthrough();
const RequestSchema = z
  .object({
    model: z.string().optional(),
    generate: z.boolean().optional(),
    previous_response_id: z.string().nullish(),
    input: z.array(z.unknown()).optional(),
    text: z
      .object({
        format: z
          .object({ type: z.string().optional(), schema: z.unknown().optional() })
          .passthrough()
          .nullish(),
      })
      .passthrough()
      .nullish(),
  })
  .passthrough();

export type ResponsesRequest = z.infer<typeof RequestSchema>;

export function parseResponsesRequest(json: unknown): ResponsesRequest | null {
  const parsed = RequestSchema.safeParse(json);
  return parsed.success ? parsed.data : null;
}

export type RequestKind = "prewarm" | "title" | "turn";

function isTitleRequest(req: ResponsesRequest): boolean {
  const format = req.text?.format;
  if (format?.type !== "json_schema") return false;
  const schema = format.schema;
  if (schema === null || typeof schema !== "object" || !("properties" in schema)) return false;
  const props = schema.properties;
  return props !== null && typeof props === "object" && "title" in props;
}

export function kindOf(req: ResponsesRequest): RequestKind {
  if (req.generate === false) return "prewarm";
  return isTitleRequest(req) ? "title" : "turn";
}

/** The user's input_text items in order, without codex's synthetic environment message. */
export function userTextsOf(req: ResponsesRequest): string[] {
  const texts: string[] = [];
  for (const raw of req.input ?? []) {
    const item = ItemSchema.safeParse(raw);
    if (!item.success || item.data.role !== "user") continue;
    if (item.data.type !== undefined && item.data.type !== "message") continue;
    const content = item.data.content;
    const parts =
      typeof content === "string" ? [{ type: "input_text", text: content }] : (content ?? []);
    for (const part of parts) {
      if (part.type !== "input_text" || part.text === undefined) continue;
      if (part.text.trimStart().startsWith("<environment_context>")) continue;
      texts.push(part.text);
    }
  }
  return texts;
}

export type TurnOutcome =
  | { type: "events"; events: ResponseEvent[]; snapshot: Snapshot | null; responseId: string }
  | { type: "limit"; status: 429; body: Record<string, unknown>; headers: Record<string, string> }
  | {
      type: "fail";
      status: number;
      body: Record<string, unknown>;
      headers?: Record<string, string>;
    };

export function failBody(status: number): Record<string, unknown> {
  const message =
    status === 401
      ? "Your authentication token is not valid (simulated)."
      : `Simulated failure with status ${status}.`;
  return {
    error: {
      message,
      type: "invalid_request_error",
      code: status === 401 ? "invalid_token" : null,
    },
  };
}

function limitOutcome(ctx: SimContext, account: AccountState): TurnOutcome {
  account.limitHit = true;
  const snapshot = turnSnapshot(account, "refused");
  const resetsAt = account.spec.turns?.resetsAt ?? snapshot.primaryResetAt;
  const body = {
    error: {
      type: "usage_limit_reached",
      message: "The usage limit has been reached",
      plan_type: snapshot.plan,
      resets_at: resetsAt,
      resets_in_seconds: Math.max(0, resetsAt - ctx.state.nowSec()),
    },
  };
  const headers = {
    ...rateLimitHeaders({ ...snapshot, primaryResetAt: resetsAt }),
    "x-codex-rate-limit-reached-type": "primary",
  };
  return { type: "limit", status: 429, body, headers };
}

/**
 * Runs the account's script for one request. Prewarms and titles are answered and never counted;
 * a turn waits out the scripted latency (or hangs), then is answered or refused.
 */
export async function runTurn(
  ctx: SimContext,
  account: AccountState,
  req: ResponsesRequest,
  kind: RequestKind,
): Promise<TurnOutcome> {
  const script = account.spec.turns ?? {};
  const model = req.model ?? "gpt-5.5";
  const responseId = randomId("resp_");
  if (script.failStatus !== undefined) {
    return { type: "fail", status: script.failStatus, body: failBody(script.failStatus) };
  }
  if (kind === "prewarm")
    return { type: "events", events: emptyEvents(responseId, model), snapshot: null, responseId };
  if (kind === "title") {
    const title = JSON.stringify({ title: `Mock title (${account.spec.accountId})` });
    return {
      type: "events",
      events: answerEvents(responseId, model, title),
      snapshot: null,
      responseId,
    };
  }
  if (script.hang === true) await hangUntilClosed(ctx.closing);
  if (script.latencyMs !== undefined && script.latencyMs > 0)
    await delay(script.latencyMs, ctx.closing);
  if (script.turnError !== undefined) {
    const { status, body, headers } = script.turnError;
    return { type: "fail", status, body, ...(headers ? { headers } : {}) };
  }
  refillIfReset(account, ctx.state.nowSec());
  const limit = script.limitAfter;
  if (!account.refilled && limit !== undefined && limit !== null && account.turnsServed >= limit)
    return limitOutcome(ctx, account);
  const index = account.turnsServed;
  account.turnsServed += 1;
  const text = `mock reply #${account.turnsServed} from account ${account.spec.accountId}`;
  return {
    type: "events",
    events: answerEvents(responseId, model, text),
    snapshot: turnSnapshot(account, index),
    responseId,
  };
}
