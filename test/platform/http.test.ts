/**
 * Our HTTP client (src/platform/http.ts) against a real server on 127.0.0.1: what it sends, what
 * it reads, and that it fails the way the callers' fetch-shaped error handling expects.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { discardBody, nodeFetch } from "../../src/platform/http.js";

let server: http.Server | null = null;

async function serve(handler: http.RequestListener): Promise<string> {
  server = http.createServer(handler);
  const s = server;
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
}

afterEach(async () => {
  const s = server;
  server = null;
  if (s === null) return;
  s.closeAllConnections();
  await new Promise((resolve) => s.close(resolve));
});

describe("nodeFetch", () => {
  it("sends the method, headers and body, and reads status, headers and text", async () => {
    const seen: { method?: string; headers?: http.IncomingHttpHeaders; body?: string } = {};
    const base = await serve((req, res) => {
      let body = "";
      req.setEncoding("utf8");
      req.on("data", (c: string) => (body += c));
      req.on("end", () => {
        Object.assign(seen, { method: req.method, headers: req.headers, body });
        res.setHeader("x-codex-one", "1");
        res.setHeader("set-cookie", ["a=1", "b=2"]);
        res.writeHead(201, { "content-type": "application/json" }).end('{"ok":"é"}');
      });
    });
    const res = await nodeFetch(`${base}/oauth/token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", Accept: "application/json" },
      body: "grant_type=refresh_token&x=é",
    });
    expect(res.status).toBe(201);
    expect(res.headers.get("Content-Type")).toBe("application/json");
    expect(res.headers.get("set-cookie")).toBe("a=1, b=2");
    expect(res.headers.get("absent")).toBeNull();
    const all: string[] = [];
    res.headers.forEach((value, key) => all.push(`${key}=${value}`));
    expect(all).toContain("x-codex-one=1");
    expect(await res.text()).toBe('{"ok":"é"}');
    expect(seen.method).toBe("POST");
    expect(seen.body).toBe("grant_type=refresh_token&x=é");
    expect(seen.headers?.["content-length"]).toBe(String(Buffer.byteLength(seen.body ?? "")));
    expect(seen.headers?.["accept"]).toBe("application/json");
    // What the global fetch sent as user-agent, and nothing compressed is asked for.
    expect(seen.headers?.["user-agent"]).toBe("node");
    expect(seen.headers?.["accept-encoding"]).toBeUndefined();
    expect(seen.headers?.["connection"]).toBe("close"); // a connection of its own
  });

  it("does not follow a redirect, and refuses one when told to", async () => {
    const base = await serve((_req, res) => {
      res.writeHead(302, { location: "http://127.0.0.1:9/elsewhere" }).end();
    });
    const answered = await nodeFetch(`${base}/a`);
    expect(answered.status).toBe(302);
    await discardBody(answered.body);
    await expect(nodeFetch(`${base}/a`, { redirect: "error" })).rejects.toThrow(/redirect/);
  });

  it("rejects a refused connection with the socket error as its cause", async () => {
    const base = await serve(() => undefined);
    const s = server;
    server = null;
    await new Promise((resolve) => s?.close(resolve));
    const error = (await nodeFetch(`${base}/x`).catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(Error);
    expect((error.cause as NodeJS.ErrnoException).code).toBe("ECONNREFUSED");
  });

  it("rejects with the signal's reason when aborted, before or during the answer", async () => {
    const base = await serve((_req, res) => {
      res.writeHead(200);
      res.write("partial"); // the rest never comes
    });
    const late = (await nodeFetch(`${base}/slow`, { signal: AbortSignal.timeout(1) })
      .then((r) => r.text())
      .catch((e: unknown) => e)) as Error;
    expect(late.name).toBe("TimeoutError");
    const controller = new AbortController();
    controller.abort();
    const early = (await nodeFetch(`${base}/x`, { signal: controller.signal }).catch(
      (e: unknown) => e,
    )) as Error;
    expect(early.name).toBe("AbortError");
  });

  it("stops reading a body left early", async () => {
    let socketClosed!: Promise<void>;
    const base = await serve((req, res) => {
      res.writeHead(200);
      const timer = setInterval(() => res.write("x".repeat(1024)), 1);
      socketClosed = new Promise((resolve) =>
        req.socket.on("close", () => {
          clearInterval(timer);
          resolve();
        }),
      );
    });
    const res = await nodeFetch(`${base}/stream`);
    for await (const chunk of res.body ?? []) {
      expect(chunk.byteLength).toBeGreaterThan(0);
      break;
    }
    // The server sees its endless answer's connection end (the test would time out otherwise).
    await socketClosed;
  });

  it("refuses a protocol it does not speak", async () => {
    await expect(nodeFetch("ftp://127.0.0.1/x")).rejects.toThrow(/ftp/);
  });
});
