/**
 * A live-mode world against the simulator: the user's real Codex home (configured for the
 * simulator, with the user's OWN sign-in in auth.json, which live mode must never use or touch), a
 * pool home, codex app-server started from a home without auth.json, the controller and its relay,
 * and a way to run the TUI attached to the relay under tmux.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { LiveController, type RefreshCallback } from "../../src/app-server/controller.js";
import type { LiveEvent } from "../../src/app-server/events.js";
import { prepareAppServerHome, removeAppServerHome } from "../../src/app-server/home.js";
import { launchAppServer, type AppServer } from "../../src/app-server/launcher.js";
import type { SuppliedAccount } from "../../src/app-server/messages.js";
import type { CodexBinary } from "../../src/codex/binary.js";
import { buildChildEnv } from "../../src/codex/child-env.js";
import { defaultSettings } from "../../src/platform/settings.js";
import type { Settings } from "../../src/platform/settings-table.js";
import { codexEnv, prepareCodexHome } from "../../src/simulator/codex-home.js";
import { startSimulator, type SimAccountSpec, type Simulator } from "../../src/simulator/index.js";
import { tempDir, type TempDir } from "../helpers/tmp.js";
import { CODEX } from "../supervisor/e2e-helpers.js";
import { startCommand, type Pane } from "../supervisor/tmux.js";

export { filesContaining } from "../supervisor/live-helpers.js";

export const BINARY: CodexBinary = { path: CODEX, kind: "native", source: "setting", env: {} };

/** The account the user signed plain codex in with; live mode must never send it. */
export const USER_ACCOUNT: SimAccountSpec = { accountId: "acct-U", email: "user@example.com" };

export interface LiveWorld extends AsyncDisposable {
  sim: Simulator;
  dir: TempDir;
  realHome: string;
  homesDir: string;
  project: string;
  settings: Settings;
  /** Our environment (what codex-pool would have been started with). */
  env: Record<string, string>;
  /** The user's auth.json as it was before anything ran. */
  userAuthJson: string;
  appServer: AppServer;
  controller: LiveController;
  events: LiveEvent[];
  /** Pool-side refreshes the controller was asked for. */
  refreshCalls: { reason: string; previousAccountId: string | null }[];
  /** What the refresh callback answers (default: a fresh token of the same account). */
  onRefresh: RefreshCallback;
  /** A fresh access token for a simulator account, as the pool would supply it. */
  supply(accountId: string, plan?: string): SuppliedAccount;
  /** Every token minted for the pool's accounts (the pool keeps the refresh tokens). */
  minted: { accessToken: string; refreshToken: string }[];
  /** The environment for a codex client attached to the relay. */
  clientEnv(): Record<string, string>;
  /** Resolves with the first event (past or future) matching `predicate`. */
  waitForEvent<E extends LiveEvent>(
    predicate: (e: LiveEvent) => e is E,
    timeoutMs?: number,
  ): Promise<E>;
  turns(): ReturnType<Simulator["requests"]>;
  /** What happened, for a failing test's report (no tokens in it). */
  diagnostics(pane?: Pick<Pane, "capture">): Promise<string>;
}

export async function liveWorld(accounts: SimAccountSpec[], first: string): Promise<LiveWorld> {
  const sim = await startSimulator({ accounts: [USER_ACCOUNT, ...accounts] });
  const dir = await tempDir("cp-live-");
  const realHome = dir.join("codex");
  const homesDir = dir.join("pool", "homes");
  const project = dir.join("project");
  await fs.mkdir(project, { recursive: true });
  await prepareCodexHome(realHome, sim, { cwd: project, accountId: USER_ACCOUNT.accountId });
  const userAuthJson = await fs.readFile(path.join(realHome, "auth.json"), "utf8");
  // The backend comes from our settings (the -c overrides), as codex-pool run would pass it.
  const settings = defaultSettings({ backendUrl: sim.backendUrl, authUrl: sim.authUrl });
  const env = codexEnv(sim, {
    PATH: process.env["PATH"] ?? "/usr/bin:/bin",
    HOME: dir.path,
    LANG: "C.UTF-8",
    NO_COLOR: "1",
    CODEX_HOME: realHome,
  });
  const home = await prepareAppServerHome(realHome, homesDir, "live-test");
  const appServer = await launchAppServer({
    binary: BINARY,
    settings,
    env,
    realHome,
    home,
    cwd: project,
    startTimeoutMs: 20_000,
  });
  const minted: LiveWorld["minted"] = [];
  const supply = (accountId: string, plan = "plus"): SuppliedAccount => {
    const tokens = sim.mintTokens(accountId);
    minted.push({ accessToken: tokens.accessToken, refreshToken: tokens.refreshToken });
    return { accessToken: tokens.accessToken, chatgptAccountId: accountId, planType: plan };
  };
  const events: LiveEvent[] = [];
  const waiters = new Set<() => void>();
  const refreshCalls: LiveWorld["refreshCalls"] = [];
  const world = {} as LiveWorld;
  const controller = await LiveController.start({
    appServer,
    account: supply(first),
    refresh: (request) => {
      refreshCalls.push({
        reason: request.reason,
        previousAccountId: request.previousAccountId ?? null,
      });
      return world.onRefresh(request);
    },
  });
  controller.on((event) => {
    events.push(event);
    for (const wake of [...waiters]) wake();
  });
  return Object.assign(world, {
    sim,
    dir,
    realHome,
    homesDir,
    project,
    settings,
    env,
    userAuthJson,
    appServer,
    controller,
    events,
    refreshCalls,
    onRefresh: (request: { previousAccountId?: string | null }) =>
      Promise.resolve(supply(request.previousAccountId ?? first)),
    supply,
    minted,
    clientEnv: () =>
      buildChildEnv({
        base: env,
        settings,
        codexHome: home,
        sqliteHome: realHome,
        extra: controller.attachEnv(),
      }),
    waitForEvent<E extends LiveEvent>(predicate: (e: LiveEvent) => e is E, timeoutMs = 30_000) {
      return new Promise<E>((resolve, reject) => {
        const check = (): boolean => {
          const hit = events.find(predicate);
          if (hit === undefined) return false;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(hit);
          return true;
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no matching live event within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    turns: () => sim.requests().filter((r) => r.kind === "turn"),
    async diagnostics(pane?: Pick<Pane, "capture">) {
      const t0 = sim.requests()[0]?.at ?? 0;
      const lines = [
        "events:",
        ...events.map((e) => `  ${JSON.stringify(e)}`),
        `refresh calls: ${JSON.stringify(refreshCalls)}`,
        "simulator:",
        ...sim
          .requests()
          .map(
            (r) =>
              `  +${r.at - t0}ms ${r.method} ${r.path} ${r.kind} ${r.accountId} ${r.status} ${r.error ?? ""} ${JSON.stringify(r.userTexts ?? null)}`,
          ),
        `app-server stderr tail:\n${appServer.stderrTail()}`,
      ];
      if (pane !== undefined) lines.push("pane (last seen):", await pane.capture().catch(() => ""));
      return lines.join("\n");
    },
    async [Symbol.asyncDispose]() {
      await controller.close();
      await appServer.stop(3000);
      await removeAppServerHome(realHome, home);
      await sim.close();
      await dir[Symbol.asyncDispose]();
    },
  });
}

/** The TUI attached to the world's relay: `codex --remote … -C <project>`, under tmux. */
export function startTui(world: LiveWorld, extra: string[] = []): Promise<Pane> {
  return startCommand(
    world.dir.path,
    [CODEX, ...world.controller.attachArgs(), "-C", world.project, ...extra],
    world.clientEnv(),
    world.project,
    { exec: true, term: "xterm-256color" },
  );
}
