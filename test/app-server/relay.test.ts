/**
 * The relay's own guarantees, which the real app-server cannot show us: bytes pass untouched and
 * in order, our requests and their answers never reach the client, held frames follow in order.
 * A scripted WebSocket peer on 127.0.0.1 stands where the app-server would be and records the
 * exact bytes it gets; the end-to-end tests run the same relay against the real codex.
 */
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { WebSocket, WebSocketServer, type RawData } from "ws";
import { connectClient } from "../../src/app-server/client.js";
import type { RelayConnection, RelayHooks } from "../../src/app-server/relay-connection.js";
import { startRelay, type Relay } from "../../src/app-server/relay.js";
import { eventually } from "../supervisor/e2e-helpers.js";

interface Received {
  text: string;
  binary: boolean;
  bytes: Buffer;
}

interface Peer extends AsyncDisposable {
  url: string;
  token: string;
  received: Received[];
  /** The peer's side of the newest connection. */
  socket(): WebSocket;
  /** How many connections reached the peer. */
  count(): number;
  /** Answers `initialize` requests automatically (on by default). */
  autoInitialize: boolean;
}

function bytesOf(data: RawData): Buffer {
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.isBuffer(data) ? data : Buffer.from(data);
}

async function startPeer(): Promise<Peer> {
  const token = "peer-token";
  const received: Received[] = [];
  const sockets: WebSocket[] = [];
  const wss = new WebSocketServer({
    host: "127.0.0.1",
    port: 0,
    perMessageDeflate: false,
    verifyClient: (info: { req: { headers: Record<string, unknown> } }) =>
      info.req.headers["authorization"] === `Bearer ${token}`,
  });
  await new Promise<void>((resolve) => wss.once("listening", () => resolve()));
  const peer: Peer = {
    url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`,
    token,
    received,
    socket: () => sockets.at(-1)!,
    count: () => sockets.length,
    autoInitialize: true,
    async [Symbol.asyncDispose]() {
      for (const s of wss.clients) s.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
  wss.on("connection", (ws) => {
    sockets.push(ws);
    ws.on("message", (data, binary) => {
      const bytes = bytesOf(data);
      const text = bytes.toString("utf8");
      received.push({ text, binary, bytes });
      const msg = binary ? null : (JSON.parse(text) as { id?: unknown; method?: string });
      if (peer.autoInitialize && msg?.method === "initialize") {
        ws.send(JSON.stringify({ id: msg.id, result: { userAgent: "peer" } }));
      }
    });
  });
  return peer;
}

async function withRelay(
  peer: Peer,
  hooks: Partial<RelayHooks> = {},
): Promise<Relay & AsyncDisposable> {
  const relay = await startRelay({
    upstream: { url: peer.url, token: peer.token },
    hooks: { serverRequests: new Map(), ...hooks },
  });
  return Object.assign(relay, { [Symbol.asyncDispose]: () => relay.close() });
}

/** A raw client of the relay that records every frame it gets. */
async function rawClient(relay: Relay): Promise<{ ws: WebSocket; got: Received[] }> {
  const ws = new WebSocket(relay.url, {
    headers: { authorization: `Bearer ${relay.token}` },
    perMessageDeflate: false,
  });
  const got: Received[] = [];
  ws.on("message", (data, binary) => {
    const bytes = bytesOf(data);
    got.push({ text: bytes.toString("utf8"), binary, bytes });
  });
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  return { ws, got };
}

const ME = { name: "relay-test", title: null, version: "0" };

describe("the relay", () => {
  it("passes frames both ways byte for byte, binary ones too", async () => {
    await using peer = await startPeer();
    await using relay = await withRelay(peer);
    const { ws, got } = await rawClient(relay);
    const odd = '{ "id" : 1 ,\n "method":"x/y",  "params":{"é":"\\u00e9 ✓"} }';
    ws.send(odd);
    ws.send(Buffer.from([0, 1, 2, 255]), { binary: true });
    await eventually("the peer to get both frames", () => peer.received.length === 2);
    expect(peer.received[0]!.bytes.equals(Buffer.from(odd, "utf8"))).toBe(true);
    expect(peer.received[0]!.binary).toBe(false);
    expect(peer.received[1]!.bytes.equals(Buffer.from([0, 1, 2, 255]))).toBe(true);
    expect(peer.received[1]!.binary).toBe(true);
    const back = '{"method" :"note",   "params":{"n":[1, 2 ,3]}}';
    peer.socket().send(back);
    await eventually("the client to get it", () => got.length === 1);
    expect(got[0]!.bytes.equals(Buffer.from(back, "utf8"))).toBe(true);
    expect(got[0]!.binary).toBe(false);
    ws.close();
  });

  it("takes our requests' answers out of the stream, and answers the server requests it owns", async () => {
    await using peer = await startPeer();
    let conn: RelayConnection | null = null;
    const handled: unknown[] = [];
    await using relay = await withRelay(peer, {
      onInitialized: (c) => {
        conn = c;
        return Promise.resolve();
      },
      serverRequests: new Map([
        [
          "owned/ask",
          (params: unknown) => {
            handled.push(params);
            return (params as { fail?: boolean }).fail === true
              ? Promise.reject(new Error("no account left: run codex-pool login"))
              : Promise.resolve({ fine: true });
          },
        ],
      ]),
    });
    const client = await connectClient(relay.url, relay.token, ME);
    const seen: string[] = [];
    client.onNotification((method) => seen.push(method));
    await eventually("the client to be initialized", () => conn?.ready === true);

    const answer = conn!.request("peer/echo", { a: 1 });
    await eventually("the peer to get our request", () =>
      peer.received.some((r) => r.text.includes("peer/echo")),
    );
    const ours = JSON.parse(peer.received.find((r) => r.text.includes("peer/echo"))!.text) as {
      id: string;
    };
    expect(ours.id).toMatch(/^codex-pool-/);
    peer.socket().send(JSON.stringify({ id: ours.id, result: { echoed: true } }));
    await expect(answer).resolves.toEqual({ echoed: true });

    peer.socket().send(JSON.stringify({ id: "srv-1", method: "owned/ask", params: { x: 1 } }));
    peer
      .socket()
      .send(JSON.stringify({ id: "srv-2", method: "owned/ask", params: { fail: true } }));
    peer.socket().send(JSON.stringify({ method: "after" }));
    await eventually(
      "both answers",
      () => peer.received.filter((r) => r.text.includes('"srv-')).length === 2,
    );
    const answers = peer.received
      .filter((r) => r.text.includes('"srv-'))
      .map((r) => JSON.parse(r.text) as unknown);
    expect(answers).toContainEqual({ id: "srv-1", result: { fine: true } });
    expect(answers).toContainEqual({
      id: "srv-2",
      // Why, and what to do: the text codex may show the person at the TUI.
      error: {
        code: -32000,
        message: "codex-pool could not answer owned/ask: no account left: run codex-pool login",
      },
    });
    await eventually("the notification after them", () => seen.includes("after"));
    // The client saw neither our answer nor the owned requests.
    expect(seen).toEqual(["after"]);
    expect(handled).toEqual([{ x: 1 }, { fail: true }]);
    await client.close();
  });

  it("holds the client's initialize answer while the hook runs, and what follows it, in order", async () => {
    await using peer = await startPeer();
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    await using relay = await withRelay(peer, { onInitialized: () => gate });
    const { ws, got } = await rawClient(relay);
    ws.send(JSON.stringify({ id: "initialize", method: "initialize", params: {} }));
    await eventually("the peer to answer initialize", () => peer.received.length === 1);
    peer.socket().send(JSON.stringify({ method: "first" }));
    peer.socket().send(JSON.stringify({ method: "second" }));
    // Held: nothing reached the client. Proven by a frame that overtakes nothing: a later
    // connection of the same relay is not held.
    const other = await rawClient(relay);
    await eventually("its connection at the peer", () => peer.count() === 2);
    peer.socket().send(JSON.stringify({ method: "to-the-other" }));
    await eventually("the other client to get its frame", () => other.got.length === 1);
    expect(got).toEqual([]);
    release();
    await eventually("the held frames", () => got.length === 3);
    expect(got.map((g) => JSON.parse(g.text) as Record<string, unknown>)).toEqual([
      { id: "initialize", result: { userAgent: "peer" } },
      { method: "first" },
      { method: "second" },
    ]);
    ws.close();
    other.ws.close();
  });

  it("holds the client's frames while we act, then sends them in order", async () => {
    await using peer = await startPeer();
    let conn: RelayConnection | null = null;
    await using relay = await withRelay(peer, {
      onInitialized: (c) => {
        conn = c;
        return Promise.resolve();
      },
    });
    const { ws } = await rawClient(relay);
    ws.send(JSON.stringify({ id: 1, method: "initialize", params: {} }));
    await eventually("initialized", () => conn?.ready === true);
    let finish: () => void = () => {};
    const held = conn!.holdClient(() => new Promise<void>((resolve) => (finish = resolve)));
    for (const n of [2, 3, 4]) ws.send(JSON.stringify({ id: n, method: "turn/start" }));
    // The relay answers a ping after it has taken every frame sent before it: they are in.
    const pong = new Promise<void>((resolve) => ws.once("pong", () => resolve()));
    ws.ping();
    await pong;
    // The client's frames came first; ours must still arrive before them.
    const ours = conn!.request("ours", {});
    await eventually("our request at the peer", () =>
      peer.received.some((r) => r.text.includes('"ours"')),
    );
    expect(peer.received.map((r) => (JSON.parse(r.text) as { method: string }).method)).toEqual([
      "initialize",
      "ours",
    ]);
    finish();
    await held;
    await eventually("the held frames", () => peer.received.length === 5);
    expect(peer.received.slice(2).map((r) => (JSON.parse(r.text) as { id: number }).id)).toEqual([
      2, 3, 4,
    ]);
    void ours.catch(() => undefined);
    ws.close();
  });

  it("closes the client when the app-server goes, and fails our open requests", async () => {
    await using peer = await startPeer();
    let conn: RelayConnection | null = null;
    const closes: string[] = [];
    await using relay = await withRelay(peer, {
      onInitialized: (c) => {
        conn = c;
        return Promise.resolve();
      },
      onClose: (_c, info) => closes.push(info.by),
    });
    const client = await connectClient(relay.url, relay.token, ME);
    await eventually("initialized", () => conn?.ready === true);
    const open = conn!.request("never/answered", {});
    peer.socket().close(4001);
    await expect(open).rejects.toThrow(/closed/);
    expect(await client.closed).toBe(4001);
    expect(closes).toEqual(["app-server"]);
  });
});
