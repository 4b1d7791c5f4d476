import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TokenRefresher } from "../../src/auth/refresher.js";
import { refreshGrant } from "../../src/auth/token-client.js";
import { NeedsLoginError, TransientError } from "../../src/platform/errors.js";
import { RefreshTokenHeldError } from "../../src/pool/live-sessions.js";
import { poolPaths } from "../../src/platform/paths.js";
import { startSimulator, type Simulator } from "../../src/simulator/index.js";
import { ROOT, runCli } from "../helpers/cli.js";
import { killWorker, startWorker } from "../helpers/pool-worker.js";
import { tempHomes } from "../helpers/tmp.js";
import { makeStore, seedAccount } from "./support.js";

let sim: Simulator;

beforeAll(async () => {
  sim = await startSimulator({
    accounts: [
      { accountId: "acct-R", email: "rita@example.com" },
      { accountId: "acct-P", email: "paul@example.com" },
      { accountId: "acct-S", email: "sam@example.com" },
      { accountId: "acct-F", email: "fred@example.com" },
      { accountId: "acct-M", email: "mia@example.com" },
      { accountId: "acct-H", email: "hana@example.com" },
    ],
  });
});

afterAll(async () => {
  expect(sim.strayRequests()).toEqual([]);
  await sim.close();
});

function refresherFor(poolHome: string, fetchImpl: typeof fetch = fetch): TokenRefresher {
  return new TokenRefresher({
    store: makeStore(poolHome),
    leasesDir: poolPaths(poolHome).leasesDir,
    authUrl: sim.authUrl,
    skewSeconds: 60,
    fetch: fetchImpl,
  });
}

describe("TokenRefresher", () => {
  it("refreshes an expiring access token and persists the rotated refresh token", async () => {
    await using homes = await tempHomes();
    const store = makeStore(homes.poolHome);
    // 10 s left is inside the 60 s skew: due for refresh.
    const { account, minted } = await seedAccount(store, sim, "acct-R", 10);
    const before = sim.refreshCount("acct-R");
    const fresh = await refresherFor(homes.poolHome).ensureFresh(account.id);
    expect(sim.refreshCount("acct-R")).toBe(before + 1);
    expect(fresh.tokens.refreshToken).not.toBe(minted.refreshToken);
    expect(fresh.tokens.accessToken).not.toBe(minted.accessToken);
    expect(Date.parse(fresh.tokens.accessTokenExpiresAt!)).toBeGreaterThan(Date.now() + 3000_000);
    const onDisk = JSON.parse(await fs.readFile(poolPaths(homes.poolHome).poolFile, "utf8"));
    expect(onDisk.accounts[0].tokens.refreshToken).toBe(fresh.tokens.refreshToken);
    expect(onDisk.accounts[0].tokens.accessToken).toBe(fresh.tokens.accessToken);
    // Fresh now: a second call makes no request.
    await refresherFor(homes.poolHome).ensureFresh(account.id);
    expect(sim.refreshCount("acct-R")).toBe(before + 1);
  });

  it("shares one refresh among concurrent callers in a process, and --force refreshes a fresh token", async () => {
    await using homes = await tempHomes();
    const store = makeStore(homes.poolHome);
    const { account } = await seedAccount(store, sim, "acct-S", 10);
    const refresher = refresherFor(homes.poolHome);
    const before = sim.refreshCount("acct-S");
    const results = await Promise.all(
      Array.from({ length: 8 }, () => refresher.ensureFresh(account.id)),
    );
    expect(sim.refreshCount("acct-S")).toBe(before + 1);
    expect(new Set(results.map((a) => a.tokens.accessToken)).size).toBe(1);
    const forced = await refresher.ensureFresh(account.id, { force: true });
    expect(sim.refreshCount("acct-S")).toBe(before + 2);
    expect(forced.tokens.accessToken).not.toBe(results[0]!.tokens.accessToken);
  });

  it("six OS processes refreshing one account at once spend its refresh token exactly once", async () => {
    const worker = path.join(ROOT, "test/fixtures/refresh-worker.mjs");
    await fs.access(path.join(ROOT, "dist/auth/refresher.js")).catch(() => {
      throw new Error("dist/ is missing or stale: run `npm run build` before this test");
    });
    await using homes = await tempHomes();
    const store = makeStore(homes.poolHome);
    const { account } = await seedAccount(store, sim, "acct-P", 10);
    const before = sim.refreshCount("acct-P");
    const children = Array.from({ length: 6 }, () =>
      spawn(process.execPath, [worker, homes.poolHome, sim.authUrl, account.id], {
        env: homes.env,
        stdio: ["pipe", "pipe", "pipe"],
      }),
    );
    const outputs = children.map(
      (child) =>
        new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
          let stdout = "";
          let stderr = "";
          child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
          child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
          child.on("error", reject);
          child.on("close", (code) => resolve({ code, stdout, stderr }));
        }),
    );
    // Start barrier: release all workers only once every one has loaded and is waiting.
    await Promise.all(
      children.map(
        (child) =>
          new Promise<void>((resolve) => {
            const onData = (d: Buffer) => {
              if (d.toString().includes("ready")) {
                child.stdout.off("data", onData);
                resolve();
              }
            };
            child.stdout.on("data", onData);
          }),
      ),
    );
    for (const child of children) child.stdin.end("go\n");
    const results = await Promise.all(outputs);

    expect(results.map((r) => r.code)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(sim.refreshCount("acct-P")).toBe(before + 1);
    expect(sim.requests().filter((r) => r.error === "refresh_token_reused")).toEqual([]);
    const pool = await store.read();
    const finalHash = createHash("sha256")
      .update(pool.accounts[0]!.tokens.accessToken)
      .digest("hex");
    for (const r of results) {
      const line = JSON.parse(r.stdout.trim().split("\n").at(-1)!);
      expect(line).toEqual({ ok: true, hash: finalHash });
    }
    expect(pool.accounts[0]!.state).toEqual({ kind: "ok" });
  });

  it("a refresh token a live codex of another process holds is not spent (status says so); once that session ends, a live-mode session on the account does not bar the refresh", async () => {
    await using homes = await tempHomes();
    const store = makeStore(homes.poolHome);
    const { account } = await seedAccount(store, sim, "acct-H", 10);
    const before = sim.refreshCount("acct-H");
    const holder = startWorker(["hold-session", homes.poolHome, account.id], homes.env);
    try {
      await holder.waitFor("holding");
      const refused = refresherFor(homes.poolHome).ensureFresh(account.id);
      await expect(refused).rejects.toBeInstanceOf(RefreshTokenHeldError);
      await expect(refused).rejects.toThrow(
        `the refresh token of #1 hana@… is held by the codex of a running session (pid ${holder.child.pid} on this machine)`,
      );
      const env = {
        ...homes.env,
        CODEX_POOL_AUTH_URL: sim.authUrl,
        CODEX_POOL_BACKEND_URL: sim.backendUrl,
      };
      const status = await runCli(["status", "--refresh"], { env });
      expect(status.code).toBe(0);
      expect(status.stdout).toContain(
        "1 hana@example.com not checked: its refresh token belongs to the codex of a running session",
      );
      expect(status.stdout).toMatch(/IN USE ON[\s\S]*this machine/);
      expect(sim.refreshCount("acct-H")).toBe(before);
    } finally {
      await killWorker(holder);
    }
    // Live mode never gives codex a refresh token: the pool refreshes while that session runs.
    const liveMode = startWorker(["hold-session", homes.poolHome, account.id, "live"], homes.env);
    try {
      await liveMode.waitFor("holding");
      await refresherFor(homes.poolHome).ensureFresh(account.id);
      expect(sim.refreshCount("acct-H")).toBe(before + 1);
    } finally {
      await killWorker(liveMode);
    }
  });

  it("a spent refresh token marks the account needs-login, keeps it, and stops asking the server", async () => {
    await using homes = await tempHomes();
    const store = makeStore(homes.poolHome);
    const { account, minted } = await seedAccount(store, sim, "acct-F", 10);
    // Someone else (say, a stray codex) spends the refresh token first.
    await refreshGrant(minted.refreshToken, { authUrl: sim.authUrl, fetch });
    const refresher = refresherFor(homes.poolHome);
    const failure = refresher.ensureFresh(account.id);
    await expect(failure).rejects.toBeInstanceOf(NeedsLoginError);
    await expect(failure).rejects.toMatchObject({ reason: "refresh_token_reused" });
    const message = await failure.catch((e: Error) => e.message);
    expect(message).toMatch(/codex-pool login/);
    expect(message).not.toContain(minted.refreshToken);
    expect(message).not.toContain(minted.accessToken);

    const pool = await store.read();
    expect(pool.accounts).toHaveLength(1);
    expect(pool.accounts[0]!.state).toMatchObject({
      kind: "needs-login",
      reason: "refresh_token_reused",
    });
    expect(pool.accounts[0]!.tokens.refreshToken).toBe(minted.refreshToken);

    const requestsBefore = sim.requests().length;
    await expect(refresherFor(homes.poolHome).ensureFresh(account.id)).rejects.toMatchObject({
      name: "NeedsLoginError",
      reason: "refresh_token_reused",
    });
    expect(sim.requests().length).toBe(requestsBefore);
  });

  it("does not overwrite tokens that replaced the spent one while the refresh was in flight", async () => {
    await using homes = await tempHomes();
    const store = makeStore(homes.poolHome);
    const { account } = await seedAccount(store, sim, "acct-R", 10);
    const replacement = sim.mintTokens("acct-R");
    // While our request is on the wire, a new sign-in of the same account lands in the pool.
    const racing: typeof fetch = async (input, init) => {
      await store.transact((pool) => {
        pool.accounts[0]!.tokens = {
          ...pool.accounts[0]!.tokens,
          accessToken: replacement.accessToken,
          refreshToken: replacement.refreshToken,
          accessTokenExpiresAt: new Date(Date.now() + 3600_000).toISOString(),
        };
      });
      return fetch(input, init);
    };
    const result = await refresherFor(homes.poolHome, racing).ensureFresh(account.id);
    expect(result.tokens.refreshToken).toBe(replacement.refreshToken);
    const pool = await store.read();
    expect(pool.accounts[0]!.tokens.refreshToken).toBe(replacement.refreshToken);
    expect(pool.accounts[0]!.state).toEqual({ kind: "ok" });
  });

  it("an unknown refresh token is invalid_grant; a 5xx or a dead server is transient and changes nothing", async () => {
    const unknown = refreshGrant("rt-nobody-g1-000000", { authUrl: sim.authUrl, fetch });
    await expect(unknown).rejects.toMatchObject({
      name: "NeedsLoginError",
      reason: "invalid_grant",
    });

    await using homes = await tempHomes();
    const store = makeStore(homes.poolHome);
    const { account, minted } = await seedAccount(store, sim, "acct-M", 10);
    const failing: typeof fetch = () =>
      Promise.resolve(
        new Response(JSON.stringify({ error: { message: `boom ${minted.refreshToken}` } }), {
          status: 502,
        }),
      );
    const err = await refresherFor(homes.poolHome, failing)
      .ensureFresh(account.id)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransientError);
    expect((err as Error).message).not.toContain(minted.refreshToken);
    const refused: typeof fetch = () => fetch("http://127.0.0.1:1/oauth/token", { method: "POST" });
    await expect(
      refresherFor(homes.poolHome, refused).ensureFresh(account.id),
    ).rejects.toBeInstanceOf(TransientError);
    const malformed: typeof fetch = () =>
      Promise.resolve(new Response('{"access_token": 5}', { status: 200 }));
    await expect(
      refresherFor(homes.poolHome, malformed).ensureFresh(account.id),
    ).rejects.toMatchObject({
      name: "MalformedResponseError",
    });
    const pool = await store.read();
    expect(pool.accounts[0]!.state).toEqual({ kind: "ok" });
    expect(pool.accounts[0]!.tokens.refreshToken).toBe(minted.refreshToken);
    // The token was never spent by those failures, so a real refresh still works.
    const fresh = await refresherFor(homes.poolHome).ensureFresh(account.id);
    expect(fresh.tokens.refreshToken).not.toBe(minted.refreshToken);
  });
});
