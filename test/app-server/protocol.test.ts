/** The pure parts of live mode: frames, our request ids, notifications, turn tracking, tokens. */
import { describe, expect, it } from "vitest";
import {
  bearerMatches,
  newCapabilityToken,
  tokenSha256Hex,
} from "../../src/app-server/capability.js";
import { eventOf } from "../../src/app-server/events.js";
import { idKey, parseFrame } from "../../src/app-server/jsonrpc.js";
import { errorInfoName, parseNotification } from "../../src/app-server/messages.js";
import { AppServerError } from "../../src/app-server/errors.js";
import { PendingCalls } from "../../src/app-server/pending.js";
import { TurnTracker } from "../../src/app-server/turns.js";

describe("JSON-RPC frames", () => {
  it("tells requests, notifications, results and errors apart, with either kind of id", () => {
    expect(parseFrame('{"id":"initialize","method":"initialize","params":{}}')).toEqual({
      kind: "request",
      id: "initialize",
      method: "initialize",
      params: {},
    });
    expect(parseFrame('{"method":"initialized"}')).toEqual({
      kind: "notification",
      method: "initialized",
      params: undefined,
    });
    expect(parseFrame('{"id":7,"result":null}')).toEqual({ kind: "result", id: 7, result: null });
    expect(parseFrame('{"id":0,"error":{"code":-32600,"message":"no"}}')).toMatchObject({
      kind: "error",
      id: 0,
      error: { code: -32600, message: "no" },
    });
    expect(parseFrame('{"error":{"code":-32700,"message":"parse"}}')).toMatchObject({
      kind: "error",
      id: null,
    });
  });

  it("calls anything else invalid without quoting it", () => {
    const texts = [
      "not json zz-marker",
      '["zz-marker"]',
      '{"id":1,"token":"zz-marker"}',
      '{"id":{"zz-marker":1},"result":1}',
      '"zz-marker"',
    ];
    for (const text of texts) {
      const frame = parseFrame(text);
      expect(frame.kind).toBe("invalid");
      expect(JSON.stringify(frame)).not.toContain("zz-marker");
    }
  });

  it('keeps 1 and "1" apart as ids', () => {
    expect(idKey(1)).not.toBe(idKey("1"));
  });
});

describe("our request ids", () => {
  it("are strings of their own, never one the peer has in flight, and settle once", async () => {
    const calls = new PendingCalls();
    const first = calls.open("a");
    expect(typeof first.id).toBe("string");
    expect(String(first.id)).toMatch(/^codex-pool-[A-Za-z0-9_-]{12}-1$/);
    const taken = String(first.id).replace(/-1$/, "-2");
    const second = calls.open("b", (key) => key === idKey(taken));
    expect(second.id).not.toBe(taken);
    expect(calls.owns(second.id)).toBe(true);
    expect(calls.owns(taken)).toBe(false);
    calls.settle(first.id, { result: 42 });
    await expect(first.answer).resolves.toBe(42);
    expect(calls.owns(first.id)).toBe(false);
    calls.settle(second.id, { error: { code: -32600, message: "refused" } });
    await expect(second.answer).rejects.toThrow(
      "codex app-server refused b: refused (code -32600)",
    );
  });

  it("given up on after their time: the call fails, and its late answer is still ours and dropped", async () => {
    const calls = new PendingCalls();
    const late = calls.open("account/login/start", () => false, 20);
    await expect(late.answer).rejects.toBeInstanceOf(AppServerError);
    await expect(late.answer).rejects.toThrow(
      "the app-server did not answer account/login/start within 20 ms",
    );
    // Not forwarded to the client when it comes, and never reused for another call meanwhile.
    expect(calls.owns(late.id)).toBe(true);
    expect(calls.open("next").id).not.toBe(late.id);
    calls.settle(late.id, { result: {} });
    expect(calls.owns(late.id)).toBe(false);
    // Answered in time: the timer does not fail it afterwards.
    const quick = calls.open("turn/start", () => false, 20);
    calls.settle(quick.id, { result: 1 });
    await expect(quick.answer).resolves.toBe(1);
    await new Promise((r) => setTimeout(r, 40));
    expect(calls.owns(quick.id)).toBe(false);
  });

  it("differ between two connections (a random part each)", () => {
    expect(new PendingCalls().open("x").id).not.toBe(new PendingCalls().open("x").id);
  });

  it("fail when the connection closes, and later calls throw at once", async () => {
    const calls = new PendingCalls();
    const open = calls.open("x");
    calls.closeAll("gone");
    await expect(open.answer).rejects.toThrow("gone");
    expect(() => calls.open("y")).toThrow("gone");
    expect(calls.owns(open.id)).toBe(false);
  });
});

describe("notifications", () => {
  it("parses the ones we read and flags a known one with a wrong shape", () => {
    const started = parseNotification("turn/started", {
      threadId: "t",
      turn: { id: "u", status: "inProgress", items: [], extra: 1 },
    });
    expect(started).toMatchObject({ type: "known", notification: { method: "turn/started" } });
    expect(parseNotification("item/agentMessage/delta", { anything: 1 })).toEqual({
      type: "other",
      method: "item/agentMessage/delta",
    });
    const bad = parseNotification("turn/completed", { threadId: 3, turn: { id: "secret-ish" } });
    expect(bad).toMatchObject({ type: "malformed", method: "turn/completed" });
    expect(JSON.stringify(bad)).not.toContain("secret-ish");
  });

  it("names codexErrorInfo whether a string or an object, and marks the usage limit", () => {
    expect(errorInfoName("usageLimitExceeded")).toBe("usageLimitExceeded");
    expect(errorInfoName({ httpConnectionFailed: { httpStatusCode: 502 } })).toBe(
      "httpConnectionFailed",
    );
    expect(errorInfoName(null)).toBeNull();
    const parsed = parseNotification("error", {
      error: { message: "You’ve hit your usage limit.", codexErrorInfo: "usageLimitExceeded" },
      willRetry: false,
      threadId: "t",
      turnId: "u",
    });
    if (parsed.type !== "known") throw new Error("expected a known notification");
    expect(eventOf(parsed.notification, () => false)).toMatchObject({
      type: "turnError",
      usageLimit: true,
      failure: { codexErrorInfo: "usageLimitExceeded" },
    });
  });
});

function known(method: string, params: unknown) {
  const parsed = parseNotification(method, params);
  if (parsed.type !== "known") throw new Error(`not known: ${method}`);
  return parsed.notification;
}

describe("turn tracking", () => {
  it("is busy from turn/start until turn/completed, on every thread, title threads included", () => {
    const t = new TurnTracker();
    expect(t.busy()).toBe(false);
    t.request(6, "turn/start");
    expect(t.busy()).toBe(true); // sent, not answered yet
    t.response(6, { turn: { id: "u1", status: "inProgress" } });
    t.notification(
      known("turn/started", { threadId: "main", turn: { id: "u1", status: "inProgress" } }),
    );
    // The TUI's title: an ephemeral thread with its own turn while the user's turn runs.
    t.request("temporary-structured", "thread/start");
    t.response("temporary-structured", { thread: { id: "title", ephemeral: true } });
    t.request("temporary-structured-turn", "turn/start");
    t.response("temporary-structured-turn", { turn: { id: "u2", status: "inProgress" } });
    t.notification(
      known("turn/completed", { threadId: "main", turn: { id: "u1", status: "completed" } }),
    );
    expect(t.busy()).toBe(true); // the title turn still runs
    t.notification(
      known("turn/completed", { threadId: "title", turn: { id: "u2", status: "completed" } }),
    );
    expect(t.busy()).toBe(false);
    expect(t.isEphemeral("title")).toBe(true);
    expect(t.isEphemeral("main")).toBe(false);
  });

  it("stops counting a turn/start the server refused", () => {
    const t = new TurnTracker();
    t.request("x", "turn/start");
    t.response("x", undefined);
    expect(t.busy()).toBe(false);
  });

  it("knows the session's thread from thread/start, resume and thread/started, never a title thread", () => {
    const t = new TurnTracker();
    expect(t.sessionThreadId()).toBeNull();
    t.request("startup", "thread/resume");
    t.response("startup", { thread: { id: "resumed", ephemeral: false } });
    expect(t.sessionThreadId()).toBe("resumed");
    t.notification(known("thread/started", { thread: { id: "title", ephemeral: true } }));
    expect(t.sessionThreadId()).toBe("resumed");
    t.notification(known("thread/started", { thread: { id: "new", ephemeral: false } }));
    expect(t.sessionThreadId()).toBe("new");
  });
});

describe("capability tokens", () => {
  it("are random, and only the exact bearer header matches", () => {
    const token = newCapabilityToken();
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(newCapabilityToken()).not.toBe(token);
    expect(tokenSha256Hex(token)).toMatch(/^[0-9a-f]{64}$/);
    expect(bearerMatches(`Bearer ${token}`, token)).toBe(true);
    for (const header of [undefined, "", token, `bearer ${token}`, `Bearer ${token}x`, "Bearer "]) {
      expect(bearerMatches(header, token)).toBe(false);
    }
  });
});
