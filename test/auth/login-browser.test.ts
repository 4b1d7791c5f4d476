import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCallbackServer } from "../../src/auth/callback-server.js";
import { browserLogin } from "../../src/auth/login-browser.js";
import { storeSignIn } from "../../src/auth/sign-in.js";
import { AuthError } from "../../src/platform/errors.js";
import { startSimulator, type Simulator } from "../../src/simulator/index.js";
import { tempHomes } from "../helpers/tmp.js";
import { authorizeRedirect, fetchingBrowser, freePort, makeStore } from "./support.js";

let sim: Simulator;

beforeAll(async () => {
  sim = await startSimulator({
    accounts: [
      { accountId: "acct-A", email: "alice@example.com", plan: "plus" },
      { accountId: "acct-B", email: "bob@example.com", plan: "pro" },
      // Two workspaces of one email.
      { accountId: "acct-W1", email: "carol@example.com", plan: "team" },
      { accountId: "acct-W2", email: "carol@example.com", plan: "team" },
    ],
  });
});

afterAll(async () => {
  expect(sim.strayRequests()).toEqual([]);
  await sim.close();
});

function noPaste(): Promise<string | null> {
  return Promise.reject(new Error("paste was not expected"));
}

describe("browser sign-in", () => {
  it("follows the browser redirect to the callback and stores the account with its tokens", async () => {
    await using homes = await tempHomes();
    const store = makeStore(homes.poolHome);
    const browser = fetchingBrowser("alice@example.com");
    const lines: string[] = [];
    let opened = "";
    const grant = await browserLogin({
      authUrl: sim.authUrl,
      fetch,
      timeoutMs: 20_000,
      port: await freePort(),
      openBrowser: async (url) => {
        opened = url;
        await browser.open(url);
      },
      readPaste: noPaste,
      notify: (line) => lines.push(line),
    });
    expect(await browser.callbackStatus).toBe(200);
    // The URL is always printed, and it is exactly the one handed to the browser.
    expect(lines.join("\n")).toContain(opened);
    const q = new URL(opened).searchParams;
    expect(q.get("client_id")).toBe("app_EMoamEEZ73f0CkXaXp7hrann");
    expect(q.get("code_challenge_method")).toBe("S256");
    expect(q.get("originator")).toBe("codex_cli_rs");
    expect(q.get("prompt")).toBe("login");

    const result = await storeSignIn(store, grant, new Date());
    expect(result).toMatchObject({ created: true, index: 1 });
    const pool = await store.read();
    expect(pool.accounts).toHaveLength(1);
    const [account] = pool.accounts;
    expect(account).toMatchObject({
      accountId: "acct-A",
      email: "alice@example.com",
      plan: "plus",
    });
    expect(account!.tokens.refreshToken).toMatch(/^rt-acct-A-/);
    expect(account!.tokens.accessToken).toBe(grant.accessToken);
    expect(Date.parse(account!.tokens.accessTokenExpiresAt!)).toBeGreaterThan(Date.now());
    expect(pool.defaultAccount).toBe(account!.id);
  });

  it("signing in to the same account twice updates its row; two workspaces of one email are two accounts", async () => {
    await using homes = await tempHomes();
    const store = makeStore(homes.poolHome);
    const signIn = async (hint: string) => {
      const browser = fetchingBrowser(hint);
      const grant = await browserLogin({
        authUrl: sim.authUrl,
        fetch,
        timeoutMs: 20_000,
        port: await freePort(),
        openBrowser: browser.open,
        readPaste: noPaste,
        notify: () => undefined,
      });
      return storeSignIn(store, grant, new Date());
    };
    const first = await signIn("acct-W1");
    const again = await signIn("acct-W1");
    const second = await signIn("acct-W2");
    expect(first).toMatchObject({ created: true, index: 1 });
    expect(again).toMatchObject({ created: false, index: 1 });
    expect(again.account.id).toBe(first.account.id);
    expect(again.account.tokens.refreshToken).not.toBe(first.account.tokens.refreshToken);
    expect(second).toMatchObject({ created: true, index: 2 });
    const pool = await store.read();
    expect(pool.accounts.map((a) => [a.accountId, a.email])).toEqual([
      ["acct-W1", "carol@example.com"],
      ["acct-W2", "carol@example.com"],
    ]);
    expect(pool.accounts[0]!.tokens.refreshToken).toBe(again.account.tokens.refreshToken);
  });

  it("paste mode accepts the pasted redirect URL and refuses one with a wrong state", async () => {
    const port = await freePort();
    let printedUrl = "";
    const run = (mangle: (redirect: string) => string) =>
      browserLogin({
        authUrl: sim.authUrl,
        fetch,
        timeoutMs: 20_000,
        port,
        paste: true,
        notify: (line) => {
          const match = /https?:\/\/\S+\/oauth\/authorize\S*/.exec(line);
          if (match) printedUrl = match[0];
        },
        readPaste: async () => mangle(await authorizeRedirect(printedUrl, "bob@example.com")),
      });
    const grant = await run((redirect) => redirect);
    expect(grant.refreshToken).toMatch(/^rt-acct-B-/);

    const wrongState = run((redirect) => {
      const url = new URL(redirect);
      url.searchParams.set("state", "0".repeat(32));
      return url.toString();
    });
    await expect(wrongState).rejects.toBeInstanceOf(AuthError);
    await expect(wrongState).rejects.toThrow(/state mismatch/);
    // A bare code carries no state and is taken as is.
    const bare = await run((redirect) => new URL(redirect).searchParams.get("code")!);
    expect(bare.accessToken).not.toBe(grant.accessToken);
  });

  it("falls back to paste mode when the callback port is taken", async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen({ host: "127.0.0.1", port: 0 }, resolve));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const lines: string[] = [];
      let opened = false;
      const grant = await browserLogin({
        authUrl: sim.authUrl,
        fetch,
        timeoutMs: 20_000,
        port,
        openBrowser: () => {
          opened = true;
          return Promise.resolve();
        },
        notify: (line) => lines.push(line),
        readPaste: async () => {
          const url = /https?:\/\/\S+\/oauth\/authorize\S*/.exec(lines.join("\n"))![0];
          return authorizeRedirect(url, "alice@example.com");
        },
      });
      expect(grant.refreshToken).toMatch(/^rt-acct-A-/);
      expect(lines.join("\n")).toMatch(new RegExp(`port ${port} is in use`));
      expect(opened).toBe(false);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  it("times out with a clear error when no callback arrives", async () => {
    const started = Date.now();
    const login = browserLogin({
      authUrl: sim.authUrl,
      fetch,
      timeoutMs: 300,
      port: await freePort(),
      readPaste: noPaste,
      notify: () => undefined,
    });
    await expect(login).rejects.toBeInstanceOf(AuthError);
    await expect(login).rejects.toThrow(/no sign-in arrived within .*codex-pool login/);
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});

describe("callback server", () => {
  it("answers 404 off-path, 400 on a wrong state or a missing code, and keeps the first code", async () => {
    const server = await startCallbackServer({ port: 0, state: "s1" });
    try {
      const base = `http://127.0.0.1:${server.port}`;
      const status = async (path: string) => (await fetch(base + path)).status;
      expect(await status("/elsewhere?code=x&state=s1")).toBe(404);
      expect(await status("/auth/callback?code=x&state=wrong")).toBe(400);
      expect(await status("/auth/callback?state=s1")).toBe(400);
      expect(await status("/auth/callback?code=first&state=s1")).toBe(200);
      expect(await status("/auth/callback?code=second&state=s1")).toBe(200);
      expect(await server.code).toBe("first");
      const page = await fetch(`${base}/auth/callback?code=third&state=s1`);
      expect(page.headers.get("content-security-policy")).toContain("default-src 'none'");
    } finally {
      await server.close();
    }
  });

  it("also listens on ::1 when the host has IPv6 loopback", async () => {
    const server = await startCallbackServer({ port: 0, state: "s2" });
    try {
      const v6 = await fetch(`http://[::1]:${server.port}/auth/callback?code=c6&state=s2`).then(
        (r) => r.status,
        () => null, // no IPv6 loopback on this host: tolerated by design
      );
      if (v6 !== null) {
        expect(v6).toBe(200);
        expect(await server.code).toBe("c6");
      }
    } finally {
      await server.close();
    }
  });
});
