/**
 * The simulator's levers for live mode (docs/codex-app-server.md §3, §4): who the client says it
 * is, and an access token that expires while the Responses WebSocket stays open.
 */
import { describe, expect, it } from "vitest";
import WebSocket from "ws";
import type { Simulator } from "../../src/simulator/index.js";
import { ALICE, withSim } from "./helpers.js";

const wsUrl = (sim: Simulator): string =>
  `${sim.httpBackendUrl.replace(/^http/, "ws")}/codex/responses`;

function turn(text: string): string {
  return JSON.stringify({
    type: "response.create",
    model: "gpt-5.5",
    input: [{ type: "message", role: "user", content: [{ type: "input_text", text }] }],
  });
}

/** Opens the socket with `token` and returns a function that sends a turn and waits for its end. */
async function socket(
  sim: Simulator,
  token: string,
): Promise<{ ws: WebSocket; send: (text: string) => Promise<{ type: string; status?: number }> }> {
  const ws = new WebSocket(wsUrl(sim), {
    headers: {
      authorization: `Bearer ${token}`,
      "chatgpt-account-id": "acct-A",
      originator: "codex-tui",
      "user-agent": "codex-tui/0.171.0 (test)",
    },
  });
  await new Promise((resolve, reject) => {
    ws.once("open", resolve);
    ws.once("error", reject);
  });
  const send = (text: string) =>
    new Promise<{ type: string; status?: number }>((resolve) => {
      const onMessage = (data: WebSocket.RawData): void => {
        const raw = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as Buffer);
        const frame = JSON.parse(raw.toString("utf8")) as { type: string; status?: number };
        if (frame.type !== "response.completed" && frame.type !== "error") return;
        ws.off("message", onMessage);
        resolve(frame);
      };
      ws.on("message", onMessage);
      ws.send(turn(text));
    });
  return { ws, send };
}

describe("simulator levers for live mode", () => {
  it("logs the originator and user-agent of each turn", async () => {
    await using sim = await withSim([ALICE]);
    const { ws, send } = await socket(sim, sim.mintTokens("acct-A").accessToken);
    expect((await send("hi")).type).toBe("response.completed");
    ws.close();
    expect(sim.requests().filter((r) => r.kind === "turn")).toMatchObject([
      { originator: "codex-tui", userAgent: "codex-tui/0.171.0 (test)", userTexts: ["hi"] },
    ]);
  });

  it("with recheckToken refuses a turn once the socket's token has expired; without, serves it", async () => {
    for (const recheckToken of [true, false]) {
      await using sim = await withSim([{ ...ALICE, turns: { recheckToken } }]);
      const token = sim.mintTokens("acct-A").accessToken;
      const { ws, send } = await socket(sim, token);
      expect((await send("before")).type).toBe("response.completed");
      expect(sim.expireAccessToken(token)).toBe(true);
      const after = await send("after");
      ws.close();
      const last = sim.requests().at(-1);
      if (recheckToken) {
        expect(after).toMatchObject({ type: "error", status: 401 });
        expect(last).toMatchObject({ status: 401, error: "token_expired", userTexts: ["after"] });
      } else {
        expect(after.type).toBe("response.completed");
        expect(last).toMatchObject({ status: 200 });
      }
    }
  });

  it("expires one token, not the account: a fresh token still opens a socket", async () => {
    await using sim = await withSim([ALICE]);
    const old = sim.mintTokens("acct-A").accessToken;
    const fresh = sim.mintTokens("acct-A").accessToken;
    expect(sim.expireAccessToken(old)).toBe(true);
    expect(sim.expireAccessToken("never-issued")).toBe(false);
    await expect(socket(sim, old)).rejects.toThrow(/401/);
    const { ws, send } = await socket(sim, fresh);
    expect((await send("ok")).type).toBe("response.completed");
    ws.close();
  });
});
