/**
 * The real `codex app-server` (0.171) against the simulator, without a TUI: the home without
 * auth.json, the chatgptAuthTokens login, and the capability tokens of the app-server and relay
 * (docs/codex-app-server.md §2, §3, §7).
 */
import fs from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { connectClient } from "../../src/app-server/client.js";
import { AppServerError } from "../../src/app-server/errors.js";
import { launchAppServer } from "../../src/app-server/launcher.js";
import { loginParams, turnStartParams } from "../../src/app-server/messages.js";
import { CodexMissingError } from "../../src/platform/errors.js";
import { haveCodex } from "../supervisor/e2e-helpers.js";
import { liveWorld, USER_ACCOUNT } from "./live-world.js";

const ME = { name: "codex-pool-test", title: null, version: "0" };
const A = { accountId: "acct-A", email: "alice@example.com" };

describe.skipIf(!haveCodex)("codex app-server for live mode", () => {
  it("starts from a home without auth.json and takes a pool account by chatgptAuthTokens", async () => {
    await using world = await liveWorld([A], "acct-A");
    const home = world.appServer.home;
    expect(await fs.readdir(home)).not.toContain("auth.json");
    // The real home has the user's own sign-in; the server shares everything else of it.
    expect(await fs.readlink(path.join(home, "config.toml"))).toBe(
      path.join(world.realHome, "config.toml"),
    );
    const client = await connectClient(world.appServer.url, world.appServer.token, ME);
    try {
      // It found no login of its own (not the user's, not anyone's).
      expect(await client.call("account/read", {})).toMatchObject({ account: null });
      const notes: string[] = [];
      client.onNotification((method) => notes.push(method));
      expect(await client.call("account/login/start", loginParams(world.supply("acct-A")))).toEqual(
        { type: "chatgptAuthTokens" },
      );
      expect(await client.call("account/read", {})).toMatchObject({
        account: { type: "chatgpt", email: "alice@example.com", planType: "plus" },
        workspaceRouting: { chatgptAccountId: "acct-A" },
      });
      const started = (await client.call("thread/start", { cwd: world.project })) as {
        thread: { id: string };
      };
      const completed = new Promise<void>((resolve) =>
        client.onNotification((method) => {
          if (method === "turn/completed") resolve();
        }),
      );
      await client.call("turn/start", turnStartParams(started.thread.id, "hello app-server"));
      await completed;
      expect(notes).toContain("account/login/completed");
      const turns = world.turns();
      expect(turns).toHaveLength(1);
      expect(turns[0]).toMatchObject({
        accountId: "acct-A",
        status: 200,
        userTexts: ["hello app-server"],
        originator: ME.name,
      });
      expect(world.sim.requests().some((r) => r.accountId === USER_ACCOUNT.accountId)).toBe(false);
      expect(world.sim.requests().filter((r) => r.kind === "refresh")).toEqual([]);
      expect(world.sim.strayRequests()).toEqual([]);
    } finally {
      await client.close();
    }
    // Tokens lived in memory only: no auth.json appeared, the user's is untouched.
    expect(await fs.readdir(home)).not.toContain("auth.json");
    expect(await fs.readFile(path.join(world.realHome, "auth.json"), "utf8")).toBe(
      world.userAuthJson,
    );
  }, 60_000);

  it("refuses connections without the capability token, at the app-server and at the relay", async () => {
    await using world = await liveWorld([A], "acct-A");
    const relayUrl = world.controller.attachArgs()[1]!;
    const relayToken = Object.values(world.controller.attachEnv())[0]!;
    for (const url of [world.appServer.url, relayUrl]) {
      await expect(connectClient(url, null, ME)).rejects.toThrow(/HTTP 401/);
      await expect(connectClient(url, "not-the-token", ME)).rejects.toThrow(/HTTP 401/);
    }
    // Each listener takes its own token only.
    await expect(connectClient(world.appServer.url, relayToken, ME)).rejects.toThrow(/HTTP 401/);
    await expect(connectClient(relayUrl, world.appServer.token, ME)).rejects.toThrow(/HTTP 401/);
    // The right tokens are let in, and the relay logs its client in before answering it.
    const direct = await connectClient(world.appServer.url, world.appServer.token, ME);
    await direct.close();
    const relayed = await connectClient(relayUrl, relayToken, ME);
    expect(await relayed.call("account/read", {})).toMatchObject({
      account: { email: "alice@example.com" },
    });
    await relayed.close();
    // Only the hash is on the command line; the token is not.
    expect(world.appServer.argv.join(" ")).not.toContain(world.appServer.token);
    expect(world.appServer.argv).toContain("--ws-token-sha256");
    expect(world.appServer.argv.slice(-6, -4)).toEqual(["--listen", "ws://127.0.0.1:0"]);
  }, 60_000);

  it("reports a binary that is missing or exits before listening in one line", async () => {
    await using world = await liveWorld([A], "acct-A");
    const launch = (binaryPath: string) =>
      launchAppServer({
        binary: { path: binaryPath, kind: "native", source: "setting", env: {} },
        settings: world.settings,
        env: world.env,
        realHome: world.realHome,
        home: world.appServer.home,
        cwd: world.project,
        startTimeoutMs: 20_000,
      });
    const missing = launch(path.join(world.dir.path, "no-such-codex"));
    await expect(missing).rejects.toBeInstanceOf(CodexMissingError);
    await expect(missing).rejects.toThrow(/does not exist; install it/);
    const quits = launch("/bin/false");
    await expect(quits).rejects.toBeInstanceOf(AppServerError);
    await expect(quits).rejects.toThrow(/^codex app-server exited before listening \(exit 1\)/);
  }, 60_000);
});
