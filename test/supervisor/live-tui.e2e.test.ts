/**
 * The supervised TUI in live mode (docs/decisions.md decision 11), with the real codex under tmux
 * against the simulator: one codex TUI for the whole session, attached through codex-pool's relay
 * to an app-server; a usage limit or a preemptive switch hands the app-server the next account
 * between turns, the continuation goes out as a turn, and the pool does every refresh (ahead of
 * expiry, or when codex asks after a 401).
 */
import fs from "node:fs/promises";
import path from "node:path";
import { describe, expect, it, onTestFailed } from "vitest";
import { FRESH_QUOTA_MS } from "../../src/supervisor/choose.js";
import { LIVE_TUI } from "../helpers/codex-bin.js";
import { eventually, fixture, haveCodex, type Fixture } from "./e2e-helpers.js";
import { connectClient } from "../../src/app-server/client.js";
import {
  codexProcesses,
  filesContaining,
  listeningSockets,
  refreshesByCodex,
  carrying,
} from "./live-helpers.js";
import { haveTmux, startPane, submitPrompt, type Pane } from "./tmux.js";

const CONTINUE = "The previous turn was interrupted by a usage limit";

function turnsOf(fx: Fixture) {
  return fx.sim.requests().filter((r) => r.kind === "turn");
}

function report(fx: Fixture, pane: Pane): void {
  onTestFailed(async () => {
    const t0 = fx.sim.requests()[0]?.at ?? 0;
    const log = fx.sim
      .requests()
      .map(
        (r) =>
          `  +${r.at - t0}ms ${r.method} ${r.path} ${r.kind} ${r.accountId} ${r.status} ${r.error ?? ""} ${r.userAgent ?? ""} ${JSON.stringify(r.userTexts ?? null)}`,
      );
    process.stderr.write(`simulator:\n${log.join("\n")}\npane:\n${await pane.capture()}\n`);
  });
}

/** The TUI of the session: exactly one client attached, and exactly one app-server. */
async function theTui(fx: Fixture): Promise<number> {
  const { clients, appServers } = await codexProcesses(fx.poolHome);
  expect(appServers).toHaveLength(1);
  expect(clients).toHaveLength(1);
  return clients[0]!.pid;
}

/** Still the same TUI process, and codex drew its start-up banner once. */
async function sameTui(fx: Fixture, pane: Pane, pid: number): Promise<void> {
  expect(await theTui(fx)).toBe(pid);
  expect((await pane.capture()).match(/OpenAI Codex \(v/g)).toHaveLength(1);
}

async function start(fx: Fixture, env: Record<string, string> = {}): Promise<Pane> {
  const pane = await startPane(fx.poolHome, ["run"], { ...fx.env, ...env }, fx.project);
  report(fx, pane);
  await pane.waitFor("Ask Codex");
  return pane;
}

/** Submits a prompt and waits for its reply. */
async function ask(fx: Fixture, pane: Pane, text: string, reply: string): Promise<void> {
  await submitPrompt(pane, text, carrying(fx.sim, text));
  await pane.waitFor(reply);
}

describe.skipIf(!haveCodex || !haveTmux || !LIVE_TUI)("supervised TUI, live (tmux)", () => {
  it("limit hit: A answers 2 turns, the third completes on B with the whole history, one TUI", async () => {
    await using fx = await fixture([
      { accountId: "acct-A", email: "alice@example.com", turns: { limitAfter: 2 } },
      { accountId: "acct-B", email: "bob@example.com" },
    ]);
    await using pane = await start(fx);
    const tui = await theTui(fx);
    await ask(fx, pane, "first task", "mock reply #1");
    await ask(fx, pane, "second task", "mock reply #2");
    await submitPrompt(pane, "third task", carrying(fx.sim, "third task"));
    const onB = await eventually(
      "a turn on B",
      () => turnsOf(fx).find((r) => r.accountId === "acct-B" && r.status === 200),
      60_000,
    );
    expect(
      turnsOf(fx)
        .filter((r) => r.accountId === "acct-A")
        .map((r) => r.status),
    ).toEqual([200, 200, 429]);
    expect(onB.userTexts?.slice(0, 3)).toEqual(["first task", "second task", "third task"]);
    expect(onB.userTexts?.at(-1)).toMatch(new RegExp(`^${CONTINUE}`));
    expect(onB.originator).toBe("codex-tui");
    await pane.waitFor("from account acct-B");
    // The continuation is an ordinary turn of the TUI, shown under the limit message.
    expect(await pane.capture()).toContain(`› ${CONTINUE}`);
    await sameTui(fx, pane, tui);
    // The pool did every refresh; codex never held a refresh token to spend.
    expect(refreshesByCodex(fx.sim)).toEqual([]);
    const pool = await fx.readPool();
    // A live session's lease says its codex holds no refresh token (other machines may refresh).
    expect(pool.sessions.map((s) => [s.account, s.holdsRefreshToken])).toEqual([
      [fx.ids["acct-B"], false],
    ]);
    expect(pool.accounts.find((a) => a.id === fx.ids["acct-A"])?.quota?.limitReached).toBe(true);
    // The switch line waits for codex to exit; now it is among the TUI's own warnings.
    await pane.waitFor(/⚠ \d+ warnings?/);
  }, 120_000);

  it("preemptive: 97% used after turn 2, turn 3 goes out under B, no 429, same TUI", async () => {
    await using fx = await fixture([
      { accountId: "acct-A", email: "alice@example.com", turns: { usedPercentByTurn: [10, 97] } },
      { accountId: "acct-B", email: "bob@example.com" },
    ]);
    await using pane = await start(fx);
    const tui = await theTui(fx);
    await ask(fx, pane, "first task", "mock reply #1");
    await ask(fx, pane, "second task", "mock reply #2");
    // The switch happens at the boundary after turn 2: the pool records the session on B.
    await eventually(
      "the session to move to B",
      async () =>
        (await fx.readPool()).sessions.some(
          (s) => s.account === fx.ids["acct-B"] && s.phase === "running",
        ),
      60_000,
    );
    // B is logged in: the app-server checked it (docs/codex-app-server.md §3).
    await fx.sim.waitForRequest((r) => r.kind === "accounts-check" && r.accountId === "acct-B");
    await ask(fx, pane, "third task", "from account acct-B");
    const turns = turnsOf(fx);
    expect(turns.map((t) => [t.accountId, t.status])).toEqual([
      ["acct-A", 200],
      ["acct-A", 200],
      ["acct-B", 200],
    ]);
    expect(turns[2]!.userTexts).toEqual(["first task", "second task", "third task"]);
    await sameTui(fx, pane, tui);
    expect(refreshesByCodex(fx.sim)).toEqual([]);
  }, 120_000);

  it("preemptive with no account to go to: the candidate logged in ahead is undone, turn 3 stays on A", async () => {
    await using fx = await fixture([
      { accountId: "acct-A", email: "alice@example.com", turns: { usedPercentByTurn: [10, 97] } },
      { accountId: "acct-B", email: "bob@example.com" },
    ]);
    await using pane = await start(fx);
    const tui = await theTui(fx);
    await ask(fx, pane, "first task", "mock reply #1");
    // B runs out elsewhere; the pool's picture of it (from the launch) is old enough to be checked
    // again, so the switch names B, logs it in ahead, checks it, and finds it out.
    fx.sim.patchAccount("acct-B", { usage: { primaryUsedPercent: 100 } });
    await eventually(
      "B's quota in the pool to be old enough to be checked again",
      async () => {
        const b = (await fx.readPool()).accounts.find((x) => x.id === fx.ids["acct-B"]);
        const at = b?.quota?.observedAt;
        return at !== undefined && Date.now() - Date.parse(at) > FRESH_QUOTA_MS;
      },
      60_000,
      500,
    );
    await ask(fx, pane, "second task", "mock reply #2");
    const checkB = await fx.sim.waitForRequest(
      (r) => r.kind === "accounts-check" && r.accountId === "acct-B",
      60_000,
    );
    // Nowhere to go: A is logged back in after it, and the session stays on A.
    await fx.sim.waitForRequest(
      (r) => r.kind === "accounts-check" && r.accountId === "acct-A" && r.at > checkB.at,
      60_000,
    );
    await ask(fx, pane, "third task", "mock reply #3 from account acct-A");
    expect(turnsOf(fx).map((t) => [t.accountId, t.status])).toEqual([
      ["acct-A", 200],
      ["acct-A", 200],
      ["acct-A", 200],
    ]);
    const pool = await fx.readPool();
    expect(pool.sessions.map((s) => s.account)).toEqual([fx.ids["acct-A"]]);
    await sameTui(fx, pane, tui);
  }, 120_000);

  it("an access token that expires mid-session is refreshed by the pool; codex never meets a 401", async () => {
    // A 20 s token, renewed 8 s before it ends: the pool refreshes it ~12 s in, between turns.
    await using fx = await fixture([
      {
        accountId: "acct-A",
        email: "alice@example.com",
        accessTokenTtlSeconds: 20,
        turns: { recheckToken: true },
      },
    ]);
    const first = (await fx.readPool()).accounts[0]!.tokens.accessToken;
    await using pane = await start(fx, { CODEX_POOL_REFRESH_SKEW: "8" });
    const tui = await theTui(fx);
    await ask(fx, pane, "first task", "mock reply #1");
    // The pool refreshed A and logged the fresh token in (the app-server checks a login's account).
    const refresh = await fx.sim.waitForRequest((r) => r.kind === "refresh", 40_000);
    await fx.sim.waitForRequest(
      (r) => r.kind === "accounts-check" && r.accountId === "acct-A" && r.at >= refresh.at,
    );
    // The first token's life ends: whatever still held it would be refused from now on.
    expect(fx.sim.expireAccessToken(first)).toBe(true);
    const seen = fx.sim.requests().length;
    await ask(fx, pane, "second task", "mock reply #2");
    expect(refresh.userAgent).not.toMatch(/codex/i);
    expect(refreshesByCodex(fx.sim)).toEqual([]);
    expect(
      fx.sim
        .requests()
        .slice(seen)
        .filter((r) => r.status === 401),
    ).toEqual([]);
    expect(turnsOf(fx).at(-1)).toMatchObject({
      accountId: "acct-A",
      status: 200,
      userTexts: ["first task", "second task"],
    });
    await sameTui(fx, pane, tui);
  }, 120_000);

  it("a 401 is answered through codex's refresh request: the same turn finishes on A", async () => {
    await using fx = await fixture([
      { accountId: "acct-A", email: "alice@example.com", turns: { recheckToken: true } },
    ]);
    const first = (await fx.readPool()).accounts[0]!.tokens.accessToken;
    await using pane = await start(fx);
    const tui = await theTui(fx);
    await ask(fx, pane, "first task", "mock reply #1");
    // The token codex holds dies before its time (the pool had no reason to renew it).
    expect(fx.sim.expireAccessToken(first)).toBe(true);
    await ask(fx, pane, "second task", "mock reply #2");
    const turns = turnsOf(fx);
    expect(turns.some((t) => t.status === 401 && t.error === "token_expired")).toBe(true);
    expect(turns.at(-1)).toMatchObject({
      accountId: "acct-A",
      status: 200,
      userTexts: ["first task", "second task"],
    });
    // One refresh, by the pool (codex asked for it; it holds no refresh token).
    const refreshes = fx.sim.requests().filter((r) => r.kind === "refresh");
    expect(refreshes).toHaveLength(1);
    expect(refreshesByCodex(fx.sim)).toEqual([]);
    expect(await pane.capture()).not.toMatch(/401|Unauthorized|■/);
    await sameTui(fx, pane, tui);
  }, 120_000);

  it("a 401 for an account that can no longer sign in is answered with the next one", async () => {
    await using fx = await fixture([
      { accountId: "acct-A", email: "alice@example.com", turns: { recheckToken: true } },
      { accountId: "acct-B", email: "bob@example.com" },
    ]);
    const tokensA = (await fx.readPool()).accounts.find((a) => a.id === fx.ids["acct-A"])!.tokens;
    await using pane = await start(fx, { CODEX_POOL_CONTINUE_TIMEOUT: "10" });
    const tui = await theTui(fx);
    await ask(fx, pane, "first task", "mock reply #1");
    // A is signed out for good: its access token and its refresh token revoked.
    for (const token of [tokensA.accessToken, tokensA.refreshToken]) {
      const res = await fetch(`${fx.sim.authUrl}/oauth/revoke`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ token }),
      });
      expect(res.status).toBe(200);
    }
    await ask(fx, pane, "second task", "from account acct-B");
    expect(turnsOf(fx).at(-1)).toMatchObject({
      accountId: "acct-B",
      status: 200,
      userTexts: ["first task", "second task"],
    });
    const pool = await fx.readPool();
    expect(pool.accounts.find((a) => a.id === fx.ids["acct-A"])?.state.kind).toBe("needs-login");
    expect(pool.sessions.map((s) => s.account)).toEqual([fx.ids["acct-B"]]);
    expect(refreshesByCodex(fx.sim)).toEqual([]);
    await sameTui(fx, pane, tui);
  }, 120_000);

  it("security: the relay and the app-server refuse a client without their token; no refresh token reaches codex", async () => {
    await using fx = await fixture([
      { accountId: "acct-A", email: "alice@example.com", turns: { limitAfter: 1 } },
      { accountId: "acct-B", email: "bob@example.com" },
    ]);
    const before = (await fx.readPool()).accounts.map((a) => a.tokens);
    // Plain codex's own sign-in (an account outside the pool): never used, never touched.
    const userAuth = path.join(fx.codexHome, "auth.json");
    const userSignIn = JSON.stringify({
      auth_mode: "chatgpt",
      tokens: { account_id: "acct-U", access_token: "user-access", refresh_token: "user-refresh" },
    });
    await fs.writeFile(userAuth, userSignIn, { mode: 0o600 });
    await using pane = await start(fx);
    await ask(fx, pane, "first task", "mock reply #1");
    await submitPrompt(pane, "second task", carrying(fx.sim, "second task"));
    await pane.waitFor("from account acct-B");
    const { clients, appServers } = await codexProcesses(fx.poolHome);
    const relay = clients[0]!.argv[clients[0]!.argv.indexOf("--remote") + 1]!;
    expect(relay).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);
    // Both listen on loopback only, and let no one in without their token.
    const server = await listeningSockets(appServers[0]!.pid);
    const ours = await listeningSockets(clients[0]!.ppid);
    expect(server.length).toBeGreaterThan(0);
    expect(ours).toContain(relay.slice("ws://".length));
    for (const socket of [...server, ...ours]) expect(socket).toMatch(/^127\.0\.0\.1:\d+$/);
    const me = { name: "intruder", title: null, version: "0" };
    for (const url of [relay, ...server.map((s) => `ws://${s}`)]) {
      await expect(connectClient(url, null, me)).rejects.toThrow(/HTTP 401/);
      await expect(connectClient(url, "not-the-token", me)).rejects.toThrow(/HTTP 401/);
    }
    // No refresh token (nor access token) in any file codex can read, in its command line or
    // its environment; no account overlay home was made (live mode writes none).
    const after = (await fx.readPool()).accounts.map((a) => a.tokens);
    const secrets = [...before, ...after].flatMap((t) => [t.refreshToken, t.accessToken]);
    const homes = path.join(fx.poolHome, "homes");
    expect(
      await filesContaining([fx.codexHome, path.join(homes, "live"), fx.project], secrets),
    ).toEqual([]);
    expect((await fs.readdir(homes)).filter((h) => h.startsWith("acc_"))).toEqual([]);
    expect(await fs.readFile(userAuth, "utf8")).toBe(userSignIn);
    expect(await fs.readdir(path.join(homes, "live"))).not.toContain("auth.json");
    expect(fx.sim.requests().some((r) => r.accountId === "acct-U")).toBe(false);
    for (const p of [...clients, ...appServers]) {
      const seen = [
        ...p.argv,
        ...(await fs.readFile(`/proc/${p.pid}/environ`, "utf8")).split("\0"),
      ].join("\n");
      for (const secret of secrets) expect(seen.includes(secret)).toBe(false);
    }
  }, 120_000);
});
