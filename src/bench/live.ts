/**
 * Live mode's figures (docs/decisions.md, "Performance targets"):
 * - the live switch gap: a supervised TUI (`codex-pool run` under tmux, the real codex) whose
 *   account A fails its second turn on the usage limit; from that 429 to the continuation's turn
 *   request under B, both from the simulator's log, no codex restart. The yardstick, in the same
 *   round: a bare native `codex exec resume` of that session (switch-gap.ts bareResume);
 * - codex-pool's RSS while it relays that session (VmRSS of `codex-pool run`, sampled every
 *   50 ms from the moment the TUI is up to B's answer; its start-up peak, VmHWM, for reference);
 * - the relay's overhead on a streamed turn: `turn/start` → `turn/completed` for a client through
 *   codex-pool's relay against one attached to the same app-server directly, interleaved.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { LiveController } from "../app-server/controller.js";
import { connectClient, type AppServerClient } from "../app-server/client.js";
import { prepareAppServerHome, removeAppServerHome } from "../app-server/home.js";
import { launchAppServer } from "../app-server/launcher.js";
import { defaultSettings } from "../platform/settings.js";
import { codexEnv, prepareCodexHome } from "../simulator/codex-home.js";
import { startSimulator } from "../simulator/index.js";
import { CLI, CODEX_NATIVE, startWorld, tempHomes } from "./fixture.js";
import { mb, median, ms, procMemory, ratio, type Figure, type Progress } from "./measure.js";
import { bareResume, sessionIdIn } from "./switch-gap.js";
import { startTuiPane } from "./tmux.js";

interface GapRound {
  /** 429 → the continuation's turn request under B. */
  readonly gap: number;
  /** 429 → the app-server's check of B (our login reached codex and was applied). */
  readonly login: number;
  /** 429 → codex fetching B's models, the first request of the continuation's turn start. */
  readonly models: number;
  readonly bare: number;
  /** The highest RSS of `codex-pool run` seen while it relayed the session. */
  readonly rss: number;
  /** Its peak RSS over its whole life (start-up included). */
  readonly hwm: number;
}

async function gapRound(): Promise<GapRound> {
  await using world = await startWorld([
    // 12 % left after the first turn: near its floor, so B is chosen and checked ahead (prewarm).
    {
      accountId: "acct-A",
      email: "alice@example.com",
      turns: { limitAfter: 1, usedPercentByTurn: [88] },
    },
    { accountId: "acct-B", email: "bob@example.com" },
  ]);
  const turns = () => world.sim.requests().filter((r) => r.kind === "turn");
  let rss = 0;
  let hwm = 0;
  let sampling = false;
  let stopped = false;
  let session: string;
  {
    await using pane = await startTuiPane(
      world.homes.dir,
      [process.execPath, CLI, "run"],
      world.env,
      world.homes.project,
    );
    const sampler = (async () => {
      while (!stopped) {
        const m = sampling ? await procMemory(pane.pid) : null;
        if (m !== null) {
          rss = Math.max(rss, m.rss);
          hwm = m.hwm;
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    try {
      await pane.waitFor("Ask Codex");
      sampling = true; // the session runs: from now on codex-pool relays it
      await pane.submit("first task", () => turns().length >= 1);
      await pane.waitFor("mock reply #1");
      await pane.submit("second task", () => turns().length >= 2);
      await world.sim.waitForRequest((r) => r.kind === "turn" && r.accountId === "acct-B", 60_000);
      await pane.waitFor("from account acct-B");
    } catch (error) {
      // What the TUI showed and what reached the simulator: a stuck round says why in the report.
      const screen = (await pane.capture().catch(() => "")).trim().split("\n").slice(-12);
      const requests = world.sim
        .requests()
        .slice(-12)
        .map((r) => `${r.kind} ${r.accountId ?? "-"} ${r.status}`);
      throw new Error(
        `${error instanceof Error ? error.message : String(error)}; simulator: ${requests.join(", ")}; screen: ${screen.join(" | ")}`,
      );
    } finally {
      stopped = true;
      await sampler;
      process.kill(pane.pid, "SIGTERM");
    }
    session = await sessionIdIn(world.homes.codexHome);
  }
  const log = world.sim.requests();
  const limit = log.find((r) => r.kind === "turn" && r.status === 429);
  const onB = log.find((r) => r.kind === "turn" && r.accountId === "acct-B");
  const checkB = log.find((r) => r.kind === "accounts-check" && r.accountId === "acct-B");
  const modelsB = log.find(
    (r) => r.kind === "models" && r.accountId === "acct-B" && r.at >= (limit?.at ?? Infinity),
  );
  if (limit === undefined || onB === undefined || checkB === undefined || modelsB === undefined) {
    throw new Error("the session did not go from A's limit to a turn on B");
  }
  if (log.some((r) => r.kind === "refresh" && /codex/i.test(r.userAgent ?? ""))) {
    throw new Error("a codex process refreshed a token in live mode");
  }
  const bare = await bareResume(world, session);
  return {
    gap: onB.at - limit.at,
    login: checkB.at - limit.at,
    models: modelsB.at - limit.at,
    bare: bare.turn,
    rss,
    hwm,
  };
}

/** One client's turn: `turn/start` until its `turn/completed`, in ms. */
async function turnTime(client: AppServerClient, threadId: string, text: string): Promise<number> {
  const completed = new Promise<void>((resolve) => {
    const off = client.onNotification((method, params) => {
      if (method !== "turn/completed") return;
      if ((params as { threadId?: string }).threadId !== threadId) return;
      off();
      resolve();
    });
  });
  const start = process.hrtime.bigint();
  await client.call("turn/start", {
    threadId,
    input: [{ type: "text", text, text_elements: [] }],
  });
  await completed;
  return Number(process.hrtime.bigint() - start) / 1e6;
}

async function relayOverhead(turnsEach: number): Promise<{ relayed: number; direct: number }> {
  const sim = await startSimulator({ accounts: [{ accountId: "acct-A", email: "a@example.com" }] });
  await using homes = await tempHomes();
  try {
    await prepareCodexHome(homes.codexHome, sim, { cwd: homes.project });
    const settings = defaultSettings({ backendUrl: sim.backendUrl, authUrl: sim.authUrl });
    const env = codexEnv(sim, { ...homes.env });
    const home = await prepareAppServerHome(
      homes.codexHome,
      path.join(homes.poolHome, "homes"),
      "live",
    );
    const appServer = await launchAppServer({
      binary: { path: CODEX_NATIVE, kind: "native", source: "setting", env: {} },
      settings,
      env,
      realHome: homes.codexHome,
      home,
      cwd: homes.project,
      startTimeoutMs: 20_000,
    });
    const tokens = sim.mintTokens("acct-A");
    const controller = await LiveController.start({
      appServer,
      account: { accessToken: tokens.accessToken, chatgptAccountId: "acct-A", planType: "plus" },
      refresh: () => Promise.reject(new Error("no refresh in this bench")),
    });
    try {
      const relayUrl = controller.attachArgs()[1] ?? "";
      const relayToken = Object.values(controller.attachEnv())[0] ?? "";
      const me = (name: string) => ({ name, title: null, version: "0" });
      const relayed = await connectClient(relayUrl, relayToken, me("bench-relayed"));
      const direct = await connectClient(appServer.url, appServer.token, me("bench-direct"));
      const thread = async (c: AppServerClient): Promise<string> =>
        ((await c.call("thread/start", { cwd: homes.project })) as { thread: { id: string } })
          .thread.id;
      const tr = await thread(relayed);
      const td = await thread(direct);
      for (let i = 0; i < 3; i += 1) {
        await turnTime(relayed, tr, "warm up");
        await turnTime(direct, td, "warm up");
      }
      const r: number[] = [];
      const d: number[] = [];
      for (let i = 0; i < turnsEach; i += 1) {
        // Alternate which goes first, so neither always follows the other.
        if (i % 2 === 0) {
          r.push(await turnTime(relayed, tr, `turn ${i}`));
          d.push(await turnTime(direct, td, `turn ${i}`));
        } else {
          d.push(await turnTime(direct, td, `turn ${i}`));
          r.push(await turnTime(relayed, tr, `turn ${i}`));
        }
      }
      await relayed.close();
      await direct.close();
      return { relayed: median(r), direct: median(d) };
    } finally {
      await controller.close();
      await appServer.stop(3000);
      await removeAppServerHome(homes.codexHome, home);
    }
  } finally {
    await sim.close();
  }
}

export async function benchLive(progress: Progress, runs = 7, turnsEach = 60): Promise<Figure[]> {
  await fs.access(CODEX_NATIVE);
  const rounds: GapRound[] = [];
  for (let i = 0; i < runs; i += 1) {
    const round = await gapRound();
    rounds.push(round);
    progress(
      `live switch: round ${i + 1}/${runs}: ${ms(round.gap)} (login applied at ${ms(round.login)}, B's models at ${ms(round.models)}) vs bare resume ${ms(round.bare)}; RSS ${mb(round.rss)}`,
    );
  }
  const gap = median(rounds.map((r) => r.gap));
  const bare = median(rounds.map((r) => r.bare));
  const login = median(rounds.map((r) => r.login));
  const models = median(rounds.map((r) => r.models));
  const rss = median(rounds.map((r) => r.rss));
  const hwm = median(rounds.map((r) => r.hwm));
  const g = gap / bare;
  const overhead = await relayOverhead(turnsEach);
  progress(
    `relay overhead: ${ms(overhead.relayed)} through the relay vs ${ms(overhead.direct)} direct`,
  );
  const o = overhead.relayed / overhead.direct;
  return [
    {
      group: "Live",
      name: "live switch: 429 → the next turn under B, no restart ÷ bare `codex exec resume` start-up",
      value: `${ratio(g)} (${ms(gap)} vs ${ms(bare)})`,
      target: "≤ 0.30×",
      pass: g <= 0.3,
      runs,
      note: `codex checked B (our login had reached it) ${ms(login)} after the 429, fetched B's models (the continuation's turn starting) at ${ms(models)} and sent the turn at ${ms(gap)}; those parts are codex's, and why they keep 0.3× out of reach on this codex is measured in docs/codex-app-server.md §9`,
    },
    {
      group: "Live",
      name: "relay overhead: a streamed turn through codex-pool's relay ÷ attached directly",
      value: `${ratio(o)} (${ms(overhead.relayed)} vs ${ms(overhead.direct)})`,
      target: "≤ 1.05×",
      pass: o <= 1.05,
      runs: turnsEach,
    },
    {
      group: "Live",
      name: "`codex-pool run` RSS while relaying a live TUI session (highest sample)",
      value: mb(rss),
      target: "< 80 MB",
      pass: rss < 80 * 1024 * 1024,
      runs,
    },
    {
      group: "Live",
      name: "`codex-pool run` peak RSS in a live session (VmHWM, start-up included)",
      value: mb(hwm),
      target: "reference",
      pass: null,
      runs,
      note:
        hwm > rss + 1024 * 1024
          ? "the lifetime peak is reached during start-up (modules, the first launch's checks), before codex runs"
          : "no higher than while relaying: start-up costs no more memory than the session",
    },
  ];
}
