/**
 * The Responses API event sequence that completes a turn (docs/codex-cli.md §2). The same objects go out
 * as SSE events or as WS text frames.
 */
import { randomId } from "./mint.js";

export type ResponseEvent = Record<string, unknown> & { type: string };

function usage(input: number, output: number): Record<string, unknown> {
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: input + output,
  };
}

/** An answer with one assistant message, streamed as a few deltas. */
export function answerEvents(responseId: string, model: string, text: string): ResponseEvent[] {
  const itemId = randomId("msg_");
  const part = { type: "output_text", text, annotations: [] };
  const message = {
    type: "message",
    id: itemId,
    role: "assistant",
    status: "completed",
    content: [part],
  };
  const base = {
    id: responseId,
    object: "response",
    model,
    created_at: Math.floor(Date.now() / 1000),
  };
  const words = text.match(/\S+\s*/g) ?? [text];
  const at = { item_id: itemId, output_index: 0, content_index: 0 };
  return [
    { type: "response.created", response: { ...base, status: "in_progress", output: [] } },
    { type: "response.in_progress", response: { ...base, status: "in_progress", output: [] } },
    {
      type: "response.output_item.added",
      output_index: 0,
      item: { ...message, status: "in_progress", content: [] },
    },
    { type: "response.content_part.added", ...at, part: { ...part, text: "" } },
    ...words.map((delta) => ({ type: "response.output_text.delta", ...at, delta })),
    { type: "response.output_text.done", ...at, text },
    { type: "response.content_part.done", ...at, part },
    { type: "response.output_item.done", output_index: 0, item: message },
    {
      type: "response.completed",
      response: {
        ...base,
        status: "completed",
        output: [message],
        usage: usage(120, words.length),
      },
    },
  ];
}

/** A prewarm (`generate: false`): created + completed, nothing generated. */
export function emptyEvents(responseId: string, model: string): ResponseEvent[] {
  const base = {
    id: responseId,
    object: "response",
    model,
    created_at: Math.floor(Date.now() / 1000),
  };
  return [
    { type: "response.created", response: { ...base, status: "in_progress", output: [] } },
    {
      type: "response.completed",
      response: { ...base, status: "completed", output: [], usage: usage(0, 0) },
    },
  ];
}
