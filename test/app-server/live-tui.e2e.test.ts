/**
 * The real codex TUI (0.171, under tmux) attached through the relay to codex app-server, driven by
 * the live controller against the simulator (docs/codex-app-server.md §3, §5, §7): switching
 * between turns, refusing a login during a turn, the continuation after a usage limit, and the
 * token refresh. One TUI process for the whole session.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { describe, expect, it, onTestFailed } from "vitest";
import { TurnRunningError } from "../../src/app-server/errors.js";
import type { LiveEvent } from "../../src/app-server/events.js";
import { CODEX_VERSION } from "../helpers/codex-bin.js";
import { haveCodex } from "../supervisor/e2e-helpers.js";
import { haveTmux, submitPrompt, type Pane } from "../supervisor/tmux.js";
import {
  filesContaining,
  liveWorld,
  startTui,
  USER_ACCOUNT,
  type LiveWorld,
} from "./live-world.js";

const A = { accountId: "acct-A", email: "alice@example.com" };
/** The version under test, as a pattern (0.169 and 0.171 behave alike here). */
const V = (CODEX_VERSION ?? "").replace(/\./g, "\\.");
const B = { accountId: "acct-B", email: "bob@example.com", plan: "pro" };
const C = { accountId: "acct-C", email: "carol@example.com" };

type Of<T extends LiveEvent["type"]> = Extract<LiveEvent, { type: T }>;
const is =
  <T extends LiveEvent["type"]>(type: T, where: (e: Of<T>) => boolean = () => true) =>
  (e: LiveEvent): e is Of<T> =>
    e.type === type && where(e as Of<T>);

/** The user's turns (the TUI's title turns run on ephemeral threads). */
function userTurnsCompleted(world: LiveWorld): number {
  return world.events.filter((e) => e.type === "turnCompleted" && !e.ephemeral).length;
}

/** Waits for the n-th user turn to complete, and for no turn to run. */
async function waitTurnsCompleted(world: LiveWorld, n: number): Promise<void> {
  await world.waitForEvent(
    (e): e is Of<"turnCompleted"> => e.type === "turnCompleted" && userTurnsCompleted(world) >= n,
  );
  await world.controller.idle();
}

/**
 * After the first user turn the 0.171 TUI names the thread with a turn of its own on an ephemeral
 * thread, started only after the user's turn completed (docs/codex-app-server.md §8). Tests that
 * then change what the simulator accepts wait for it, so it cannot meet the change.
 */
async function titleDone(world: LiveWorld): Promise<void> {
  await world.waitForEvent(is("turnCompleted", (e) => e.ephemeral));
  await world.controller.idle();
}

/** Types a prompt and presses Enter until the simulator sees a request carrying it. */
async function submit(world: LiveWorld, pane: Pane, text: string): Promise<void> {
  await submitPrompt(
    pane,
    text,
    () => world.sim.requests().filter((r) => r.userTexts?.includes(text) === true).length,
  );
}

/** The world's diagnostics on stderr when the test fails. */
function reportOnFailure(world: LiveWorld, pane: Pane): void {
  onTestFailed(async () => {
    process.stderr.write(`${await world.diagnostics(pane)}\n`);
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe.skipIf(!haveCodex || !haveTmux)("the TUI attached through the relay", () => {
  it("switches between turns: B answers the next turn with the whole history, same TUI", async () => {
    await using world = await liveWorld([A, B, C], "acct-A");
    await using pane = await startTui(world);
    reportOnFailure(world, pane);
    await pane.waitFor("Ask Codex to do anything");
    const pid = await pane.pid();

    await submit(world, pane, "first task");
    await pane.waitFor("mock reply #1 from account acct-A");
    await waitTurnsCompleted(world, 1);
    expect(world.controller.turnRunning()).toBe(false);

    expect(await world.controller.login(world.supply("acct-B", "pro"))).toBe("applied");
    expect(world.controller.currentAccountId()).toBe("acct-B");
    await submit(world, pane, "second task");
    await pane.waitFor("mock reply #1 from account acct-B");

    // A login while a turn runs is refused by the controller and never sent: decided at the
    // moment turn/started arrives, so it holds however fast the simulator answers.
    let refused: unknown = null;
    const off = world.controller.on((e) => {
      if (e.type === "turnStarted" && !e.ephemeral && refused === null) {
        refused = "pending";
        world.controller.login(world.supply("acct-C")).then(
          () => (refused = "sent"),
          (error: unknown) => (refused = error),
        );
      }
    });
    await waitTurnsCompleted(world, 2);
    await submit(world, pane, "third task");
    await pane.waitFor("mock reply #2 from account acct-B");
    off();
    expect(refused).toBeInstanceOf(TurnRunningError);

    const turns = world.turns();
    expect(turns.map((t) => [t.accountId, t.status])).toEqual([
      ["acct-A", 200],
      ["acct-B", 200],
      ["acct-B", 200],
    ]);
    expect(turns[1]!.userTexts).toEqual(["first task", "second task"]);
    expect(turns[2]!.userTexts).toEqual(["first task", "second task", "third task"]);
    // The service saw the TUI itself, before and after the switch.
    for (const t of turns) {
      expect(t.originator).toBe("codex-tui");
      expect(t.userAgent).toMatch(new RegExp(`^codex-tui/${V} .*\\(codex-tui; ${V}\\)$`));
    }
    // Nothing ever went out under C (the refused login) or the user's own sign-in.
    const accounts = new Set(world.sim.requests().map((r) => r.accountId));
    expect(accounts.has("acct-C")).toBe(false);
    expect(accounts.has(USER_ACCOUNT.accountId)).toBe(false);
    // No codex process refreshed anything: the pool owns every refresh.
    expect(world.sim.requests().filter((r) => r.kind === "refresh")).toEqual([]);
    // One TUI the whole time: the same process, its banner drawn once.
    expect(await pane.pid()).toBe(pid);
    expect(alive(pid)).toBe(true);
    const screen = await pane.capture();
    expect(screen.match(new RegExp(`OpenAI Codex \\(v${V}\\)`, "g"))).toHaveLength(1);
    expect(world.events.filter((e) => e.type === "attached")).toEqual([
      { type: "attached", client: "codex-tui" },
    ]);
    expect(world.sim.strayRequests().every((s) => s.includes("raw.githubusercontent.com"))).toBe(
      true,
    );
  }, 120_000);

  it("continues after a usage limit: login B, turn/start confirmed by turn/started, shown in the TUI", async () => {
    await using world = await liveWorld([{ ...A, turns: { limitAfter: 1 } }, B], "acct-A");
    await using pane = await startTui(world);
    reportOnFailure(world, pane);
    await pane.waitFor("Ask Codex to do anything");
    const pid = await pane.pid();
    await submit(world, pane, "first task");
    await pane.waitFor("mock reply #1 from account acct-A");
    await submit(world, pane, "second task");

    const limit = await world.waitForEvent(is("turnError", (e) => e.usageLimit));
    expect(limit.failure.codexErrorInfo).toBe("usageLimitExceeded");
    const failed = await world.waitForEvent(is("turnCompleted", (e) => e.turnId === limit.turnId));
    expect(failed.status).toBe("failed");
    await world.controller.idle();
    expect(world.controller.turnRunning()).toBe(false);

    await world.controller.login(world.supply("acct-B", "pro"));
    const started = await world.controller.startTurn("continue");
    expect(started.threadId).toBe(limit.threadId);
    expect(world.events).toContainEqual(
      expect.objectContaining({ type: "turnStarted", turnId: started.turnId, ephemeral: false }),
    );
    await pane.waitFor("mock reply #1 from account acct-B");
    const screen = await pane.waitFor("› continue");
    expect(screen).toContain("You’ve hit your usage limit");

    const turns = world.turns();
    expect(turns.map((t) => [t.accountId, t.status])).toEqual([
      ["acct-A", 200],
      ["acct-A", 429],
      ["acct-B", 200],
    ]);
    expect(turns[2]!.userTexts).toEqual(["first task", "second task", "continue"]);
    expect(turns[2]!.originator).toBe("codex-tui");
    expect(await pane.pid()).toBe(pid);
    expect(alive(pid)).toBe(true);
    const rate = world.events.filter((e): e is Of<"rateLimits"> => e.type === "rateLimits");
    expect(rate.some((e) => e.rateLimits.primary?.usedPercent === 100)).toBe(true);
  }, 120_000);

  it("answers a 401 through account/chatgptAuthTokens/refresh: the same turn finishes", async () => {
    await using world = await liveWorld([{ ...A, turns: { recheckToken: true } }], "acct-A");
    await using pane = await startTui(world);
    reportOnFailure(world, pane);
    await pane.waitFor("Ask Codex to do anything");
    await submit(world, pane, "first task");
    await pane.waitFor("mock reply #1 from account acct-A");
    await waitTurnsCompleted(world, 1);
    await titleDone(world);

    // The token the app-server holds outlives its lifetime (codex never refreshes it, §3).
    expect(world.sim.expireAccessToken(world.minted.at(-1)!.accessToken)).toBe(true);
    await submit(world, pane, "second task");
    await pane.waitFor("mock reply #2 from account acct-A");

    expect(world.refreshCalls).toEqual([{ reason: "unauthorized", previousAccountId: "acct-A" }]);
    expect(world.events).toContainEqual({
      type: "accountApplied",
      chatgptAccountId: "acct-A",
      via: "refresh",
    });
    const turns = world.turns();
    expect(turns.at(0)).toMatchObject({ status: 200 });
    expect(turns.some((t) => t.status === 401 && t.error === "token_expired")).toBe(true);
    expect(turns.at(-1)).toMatchObject({
      accountId: "acct-A",
      status: 200,
      userTexts: ["first task", "second task"],
    });
    expect(world.events.some((e) => e.type === "turnError")).toBe(false);
    expect(await pane.capture()).not.toMatch(/401|Unauthorized|■/);
  }, 120_000);

  it("answers a refresh request with the next account when this one is refused for good", async () => {
    await using world = await liveWorld([A, B], "acct-A");
    await using pane = await startTui(world);
    reportOnFailure(world, pane);
    await pane.waitFor("Ask Codex to do anything");
    await submit(world, pane, "first task");
    await pane.waitFor("mock reply #1 from account acct-A");
    await waitTurnsCompleted(world, 1);
    await titleDone(world);

    world.sim.patchAccount("acct-A", { turns: { failStatus: 401 } });
    world.onRefresh = () => Promise.resolve(world.supply("acct-B", "pro"));
    await submit(world, pane, "second task");
    await pane.waitFor("mock reply #1 from account acct-B");

    expect(world.refreshCalls).toEqual([{ reason: "unauthorized", previousAccountId: "acct-A" }]);
    expect(world.controller.currentAccountId()).toBe("acct-B");
    expect(world.turns().at(-1)).toMatchObject({
      accountId: "acct-B",
      status: 200,
      userTexts: ["first task", "second task"],
    });
    expect(world.events.some((e) => e.type === "turnError")).toBe(false);
  }, 120_000);

  it("replaces an access token before it expires, between turns: the TUI never meets a 401", async () => {
    await using world = await liveWorld([{ ...A, turns: { recheckToken: true } }], "acct-A");
    await using pane = await startTui(world);
    reportOnFailure(world, pane);
    await pane.waitFor("Ask Codex to do anything");
    await submit(world, pane, "first task");
    await pane.waitFor("mock reply #1 from account acct-A");
    await waitTurnsCompleted(world, 1);
    await titleDone(world);

    // The pool refreshed ahead of expiry and logs the fresh token in between turns; then the
    // first token's lifetime ends.
    const old = world.minted.at(-1)!.accessToken;
    await world.controller.login(world.supply("acct-A"));
    expect(world.sim.expireAccessToken(old)).toBe(true);
    const usage = await fetch(`${world.sim.httpBackendUrl}/wham/usage`, {
      headers: { authorization: `Bearer ${old}`, "chatgpt-account-id": "acct-A" },
    });
    expect(usage.status).toBe(401); // the old token is refused from now on
    const seen = world.sim.requests().length;

    await submit(world, pane, "second task");
    await pane.waitFor("mock reply #2 from account acct-A");
    expect(world.refreshCalls).toEqual([]);
    expect(world.sim.requests().filter((r) => r.status === 401)).toHaveLength(1); // ours, above
    expect(
      world.sim
        .requests()
        .slice(seen)
        .filter((r) => r.status === 401),
    ).toEqual([]);
    expect(world.turns().at(-1)).toMatchObject({ accountId: "acct-A", status: 200 });
  }, 120_000);

  it("leaves no refresh token (nor a pool access token) in any file codex can read", async () => {
    await using world = await liveWorld([{ ...A, turns: { limitAfter: 1 } }, B], "acct-A");
    await using pane = await startTui(world);
    reportOnFailure(world, pane);
    await pane.waitFor("Ask Codex to do anything");
    await submit(world, pane, "first task");
    await pane.waitFor("mock reply #1 from account acct-A");
    await submit(world, pane, "second task");
    await world.waitForEvent(is("turnCompleted", (e) => e.status === "failed"));
    await world.controller.idle();
    await world.controller.login(world.supply("acct-B"));
    await world.controller.startTurn("continue");
    await pane.waitFor("mock reply #1 from account acct-B");

    const secrets = world.minted.flatMap((t) => [t.refreshToken, t.accessToken]);
    expect(secrets.length).toBeGreaterThanOrEqual(4);
    // The app-server's home (links followed into the real home: sessions, logs, state DBs).
    expect(await filesContaining([world.appServer.home, world.realHome], secrets)).toEqual([]);
    expect(await fs.readdir(world.appServer.home)).not.toContain("auth.json");
    expect(await fs.readFile(path.join(world.realHome, "auth.json"), "utf8")).toBe(
      world.userAuthJson,
    );
  }, 120_000);
});

describe.skipIf(!haveCodex || !haveTmux)("deaths", () => {
  it("reports the app-server dying, and the TUI's connection with it", async () => {
    await using world = await liveWorld([A], "acct-A");
    await using pane = await startTui(world);
    reportOnFailure(world, pane);
    await pane.waitFor("Ask Codex to do anything");
    await submit(world, pane, "first task");
    await pane.waitFor("mock reply #1 from account acct-A");
    process.kill(world.appServer.pid!, "SIGKILL");
    const exited = await world.waitForEvent(is("appServerExited"));
    expect(exited.outcome.signal).toBe("SIGKILL");
    const detached = await world.waitForEvent(is("detached"));
    expect(detached).toMatchObject({ client: "codex-tui", by: "app-server" });
    expect(world.events.filter((e) => e.type === "detached")).toHaveLength(1);
    // The 0.171 TUI does not exit: it keeps trying the relay (each try fails upstream).
    await pane.waitFor("Reconnecting to server");
    await world.waitForEvent(is("failure", (e) => e.message.includes("could not reach")));
    expect(world.controller.turnRunning()).toBe(false);
  }, 90_000);
});
