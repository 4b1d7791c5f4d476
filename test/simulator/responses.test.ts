import { describe, expect, it } from "vitest";
import WebSocket from "ws";
import type { Simulator } from "../../src/simulator/index.js";
import { ALICE, at, withSim } from "./helpers.js";

/** A zstd frame made of raw (stored) blocks: valid zstd without a compressor (Node 20 has none). */
function zstdRaw(data: Buffer): Buffer {
  const header = Buffer.alloc(9);
  header.writeUInt32LE(0xfd2fb528, 0);
  header[4] = 0xa0; // single segment, 4-byte frame content size
  header.writeUInt32LE(data.length, 5);
  const parts: Buffer[] = [header];
  const max = 128 * 1024;
  for (let at = 0; at < data.length || at === 0; at += max) {
    const chunk = data.subarray(at, at + max);
    const last = at + max >= data.length ? 1 : 0;
    const bh = (chunk.length << 3) | last;
    parts.push(Buffer.from([bh & 0xff, (bh >> 8) & 0xff, (bh >> 16) & 0xff]), chunk);
    if (data.length === 0) break;
  }
  return Buffer.concat(parts);
}

function turnBody(texts: string[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    model: "gpt-5.5",
    stream: true,
    input: [
      {
        type: "message",
        role: "developer",
        content: [{ type: "input_text", text: "base instructions" }],
      },
      {
        type: "message",
        role: "user",
        content: [{ type: "input_text", text: "<environment_context>cwd</environment_context>" }],
      },
      ...texts.map((text) => ({
        type: "message",
        role: "user",
        content: [{ type: "input_text", text }],
      })),
    ],
    ...extra,
  };
}

interface SseEvent {
  type: string;
  [k: string]: unknown;
}

function parseSse(text: string): SseEvent[] {
  return text
    .split("\n\n")
    .map((block) => block.split("\n").find((l) => l.startsWith("data: ")))
    .filter((l): l is string => l !== undefined)
    .map((l) => JSON.parse(l.slice(6)) as SseEvent);
}

function postTurn(sim: Simulator, token: string, body: unknown, zstd = false): Promise<Response> {
  const raw = Buffer.from(JSON.stringify(body));
  return fetch(`${sim.httpBackendUrl}/codex/responses`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${token}`,
      "chatgpt-account-id": "acct-A",
      "content-type": "application/json",
      accept: "text/event-stream",
      ...(zstd ? { "content-encoding": "zstd" } : {}),
    },
    body: zstd ? zstdRaw(raw) : raw,
  });
}

/** A WS client that collects frames and can wait for the next terminal one. */
async function openWs(url: string, token: string, ca?: string) {
  const ws = new WebSocket(url, {
    headers: { authorization: `Bearer ${token}`, "chatgpt-account-id": "acct-A" },
    ca,
    perMessageDeflate: true,
  });
  let upgradeHeaders: Record<string, string | string[] | undefined> = {};
  ws.once("upgrade", (res) => (upgradeHeaders = res.headers));
  await new Promise((resolve, reject) => {
    ws.once("open", resolve);
    ws.once("error", reject);
    ws.once("unexpected-response", (_req, res) => reject(new Error(`status ${res.statusCode}`)));
  });
  const frames: SseEvent[] = [];
  let waiter: (() => void) | null = null;
  ws.on("message", (data: WebSocket.RawData) => {
    frames.push(JSON.parse(Buffer.isBuffer(data) ? data.toString("utf8") : "{}") as SseEvent);
    waiter?.();
  });
  const until = (done: (f: SseEvent) => boolean): Promise<SseEvent[]> =>
    new Promise((resolve) => {
      const check = (): void => {
        const i = frames.findIndex(done);
        if (i === -1) return;
        waiter = null;
        resolve(frames.splice(0, i + 1));
      };
      waiter = check;
      check();
    });
  const request = (body: Record<string, unknown>): Promise<SseEvent[]> => {
    ws.send(JSON.stringify({ type: "response.create", ...body }));
    return until((f) => f.type === "response.completed" || f.type === "error");
  };
  return { ws, upgradeHeaders, request };
}

describe("simulator Responses transports", () => {
  it("SSE: a turn streams the full event sequence with x-codex headers; zstd bodies are decoded", async () => {
    await using sim = await withSim([{ ...ALICE, turns: { usedPercentByTurn: [30, 55] } }]);
    const t = sim.mintTokens("acct-A");
    const res = await postTurn(sim, t.accessToken, turnBody(["hello"]), true);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    expect(res.headers.get("x-codex-primary-used-percent")).toBe("30");
    expect(res.headers.get("x-codex-primary-window-minutes")).toBe("300");
    const events = parseSse(await res.text());
    expect(events.map((e) => e.type)).toEqual([
      "response.created",
      "response.in_progress",
      "response.output_item.added",
      "response.content_part.added",
      ...events
        .filter((e) => e.type === "response.output_text.delta")
        .map(() => "response.output_text.delta"),
      "response.output_text.done",
      "response.content_part.done",
      "response.output_item.done",
      "response.completed",
    ]);
    const done = events.find((e) => e.type === "response.output_item.done");
    expect(at(done, "item.content.0.text")).toBe("mock reply #1 from account acct-A");
    expect(at(events.at(-1), "response.usage.total_tokens")).toBeGreaterThan(0);

    const second = await postTurn(sim, t.accessToken, turnBody(["hello", "more"]));
    expect(second.headers.get("x-codex-primary-used-percent")).toBe("55");
    await second.text();
    const turns = sim.requests().filter((r) => r.kind === "turn");
    expect(turns.map((r) => [r.transport, r.userTexts])).toEqual([
      ["sse", ["hello"]],
      ["sse", ["hello", "more"]],
    ]);
    // The usage endpoint follows the turn script when no usage % is scripted.
    const usage = await (
      await fetch(`${sim.httpBackendUrl}/wham/usage`, {
        headers: { authorization: `Bearer ${t.accessToken}` },
      })
    ).json();
    expect(at(usage, "rate_limit.primary_window.used_percent")).toBe(55);
  });

  it("SSE: limitAfter → 429 usage_limit_reached; titles and prewarms are not counted; failStatus", async () => {
    const resetsAt = Math.floor(Date.now() / 1000) + 1234;
    await using sim = await withSim([{ ...ALICE, turns: { limitAfter: 1, resetsAt } }]);
    const t = sim.mintTokens("acct-A");
    const title = await postTurn(
      sim,
      t.accessToken,
      turnBody(["Generate a concise title"], {
        text: {
          format: {
            type: "json_schema",
            name: "t",
            schema: { type: "object", properties: { title: { type: "string" } } },
          },
        },
      }),
    );
    const titleEvents = parseSse(await title.text());
    expect(
      at(
        titleEvents.find((e) => e.type === "response.output_text.done"),
        "text",
      ),
    ).toBe('{"title":"Mock title (acct-A)"}');
    const pre = await postTurn(sim, t.accessToken, turnBody([], { generate: false }));
    expect(parseSse(await pre.text()).map((e) => e.type)).toEqual([
      "response.created",
      "response.completed",
    ]);
    expect((await postTurn(sim, t.accessToken, turnBody(["one"]))).status).toBe(200);
    const limited = await postTurn(sim, t.accessToken, turnBody(["one", "two"]));
    expect(limited.status).toBe(429);
    expect(limited.headers.get("x-codex-primary-used-percent")).toBe("100");
    const body: unknown = await limited.json();
    expect(at(body, "error")).toMatchObject({
      type: "usage_limit_reached",
      plan_type: "plus",
      resets_at: resetsAt,
    });
    expect(at(body, "error.resets_in_seconds")).toBeGreaterThan(1200);
    expect(sim.requests().map((r) => r.kind)).toEqual(["title", "prewarm", "turn", "turn"]);

    sim.patchAccount("acct-A", { turns: { failStatus: 401 } });
    expect((await postTurn(sim, t.accessToken, turnBody(["x"]))).status).toBe(401);
    expect((await postTurn(sim, "bogus", turnBody(["x"]))).status).toBe(401);
  });

  it("WS over HTTPS: prewarm, codex.rate_limits before each turn, history via previous_response_id, 429 frame", async () => {
    await using sim = await withSim([
      { ...ALICE, turns: { limitAfter: 2, usedPercentByTurn: [10, 20] } },
    ]);
    const t = sim.mintTokens("acct-A");
    const fs = await import("node:fs/promises");
    const ca = await fs.readFile(sim.caFile, "utf8");
    const wsUrl = `${sim.backendUrl.replace(/^https/, "wss")}/codex/responses`;
    const c = await openWs(wsUrl, t.accessToken, ca);
    // The simulator declines permessage-deflate and reports usage on the upgrade.
    expect(c.upgradeHeaders["sec-websocket-extensions"]).toBeUndefined();
    expect(c.upgradeHeaders["x-codex-primary-used-percent"]).toBe("0");

    const prewarm = await c.request({ ...turnBody([]), generate: false });
    expect(prewarm.map((f) => f.type)).toEqual(["response.created", "response.completed"]);
    const prewarmId = String(at(prewarm[1], "response.id"));

    const first = await c.request({ ...turnBody(["hi"]), previous_response_id: prewarmId });
    expect(first[0]).toMatchObject({
      type: "codex.rate_limits",
      plan_type: "plus",
      rate_limits: { primary: { used_percent: 10, window_minutes: 300 } },
    });
    expect(
      at(
        first.find((f) => f.type === "response.output_item.done"),
        "item.content.0.text",
      ),
    ).toBe("mock reply #1 from account acct-A");
    const firstId = String(at(first.at(-1), "response.id"));

    // Incremental request: only the new item, chained to the previous response.
    const second = await c.request({
      input: [{ type: "message", role: "user", content: [{ type: "input_text", text: "next" }] }],
      previous_response_id: firstId,
    });
    expect(second[0]).toMatchObject({
      type: "codex.rate_limits",
      rate_limits: { primary: { used_percent: 20 } },
    });

    const refused = await c.request(turnBody(["hi", "next", "third"]));
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({
      type: "error",
      status: 429,
      error: { type: "usage_limit_reached" },
      headers: { "x-codex-primary-used-percent": "100" },
    });
    c.ws.close();

    const turns = sim.requests().filter((r) => r.transport === "ws");
    expect(turns.map((r) => [r.kind, r.status, r.userTexts ?? null])).toEqual([
      ["prewarm", 200, null],
      ["turn", 200, ["hi"]],
      ["turn", 200, ["hi", "next"]],
      ["turn", 429, ["hi", "next", "third"]],
    ]);
  });

  it("WS: bad tokens and failStatus refuse the upgrade; hang never answers until close", async () => {
    await using sim = await withSim([{ ...ALICE, turns: { failStatus: 401 } }]);
    const t = sim.mintTokens("acct-A");
    const url = `${sim.httpBackendUrl.replace(/^http/, "ws")}/codex/responses`;
    await expect(openWs(url, "bogus")).rejects.toThrow("status 401");
    await expect(openWs(url, t.accessToken)).rejects.toThrow("status 401");
    sim.patchAccount("acct-A", { turns: { failStatus: undefined, hang: true } });
    const c = await openWs(url, t.accessToken);
    const closed = new Promise((resolve) => c.ws.once("close", resolve));
    c.ws.send(JSON.stringify({ type: "response.create", ...turnBody(["wait"]) }));
    // The turn is logged on arrival with status 0 (not answered).
    const inFlight = await sim.waitForRequest((r) => r.kind === "turn" && r.status === 0);
    expect(inFlight.userTexts).toEqual(["wait"]);
    await sim.close();
    await closed;
    expect(
      sim
        .requests()
        .filter((r) => r.kind === "turn")
        .map((r) => r.status),
    ).toEqual([401, 401, 0]);
  });
});
