/**
 * What the launch's probe round costs (src/supervisor/choose.ts): a supervised `run -- exec` on a
 * pool of 10 accounts, timed from spawn to its first turn at the simulator, with every account
 * checked a moment ago (nothing to probe), with one never checked, and with none ever checked
 * (all 10 probed before choosing); each usage answer takes 50 ms. The three alternate in each
 * round, in the same world, so machine noise hits them alike; the figures are differences of
 * medians. One after another the 10 probes would cost ten times one; at once, about one.
 */
import { makeWindow } from "../quota/windows.js";
import { CLI, simAccounts, startWorld, type World } from "./fixture.js";
import { median, ms, ratio, runProcess, type Figure, type Progress } from "./measure.js";

const ACCOUNTS = 10;
const LATENCY_MS = 50;

/** Every account checked a moment ago, except the first `unchecked` (never checked). */
async function setQuota(world: World, unchecked: number): Promise<void> {
  await world.store.transact((pool) => {
    pool.accounts.forEach((a, i) => {
      a.quota =
        i < unchecked
          ? null
          : {
              observedAt: new Date().toISOString(),
              source: "usage-api",
              plan: "plus",
              windows: [makeWindow(300, 20, new Date(Date.now() + 3 * 3600_000))],
              limitReached: false,
            };
      a.probeError = null;
    });
    pool.sessions = [];
  });
}

/** Spawn → the first turn request of this run at the simulator, and how many probes it made. */
async function launch(world: World): Promise<{ ms: number; probes: number }> {
  const start = Date.now();
  const usage = (): number => world.sim.requests().filter((r) => r.kind === "usage").length;
  const before = usage();
  // Always the same account (the last: checked in every case but "all"), so every run reuses one
  // overlay home and only the probe round differs; the round still looks at the whole pool.
  const args = ["run", "--account", String(ACCOUNTS), "--", "exec", "--skip-git-repo-check", "hi"];
  await runProcess(process.execPath, [CLI, ...args], {
    env: world.env,
    cwd: world.homes.project,
  });
  const turn = world.sim.requests().find((r) => r.kind === "turn" && r.at >= start);
  if (turn === undefined) throw new Error("the run sent no turn");
  return { ms: turn.at - start, probes: usage() - before };
}

export async function benchLaunchProbe(progress: Progress, runs = 7): Promise<Figure[]> {
  await using world = await startWorld(
    simAccounts(ACCOUNTS, { usage: { primaryUsedPercent: 20, latencyMs: LATENCY_MS } }),
  );
  const times: Record<"none" | "one" | "all", number[]> = { none: [], one: [], all: [] };
  const unchecked = { none: 0, one: 1, all: ACCOUNTS } as const;
  // One warm-up round fills the page cache; it is not counted.
  for (let round = -1; round < runs; round += 1) {
    // The order rotates round by round, so none of the three always follows the same one.
    const order = (["none", "one", "all"] as const).map((_, i, all) => all[(i + round + 3) % 3]!);
    for (const k of order) {
      await setQuota(world, unchecked[k]);
      const r = await launch(world);
      if (r.probes < unchecked[k]) {
        throw new Error(`the launch probed ${r.probes} of ${unchecked[k]} unchecked accounts`);
      }
      if (round >= 0) times[k].push(r.ms);
    }
    if (round >= 0) {
      progress(
        `launch probe round: ${round + 1}/${runs}: ${times.all.map(ms).at(-1)} (10 unchecked), ` +
          `${times.one.map(ms).at(-1)} (1), ${times.none.map(ms).at(-1)} (0)`,
      );
    }
  }
  if (world.sim.strayRequests().length > 0) throw new Error("codex sent non-loopback traffic");
  const none = median(times.none);
  const one = median(times.one) - none;
  const all = median(times.all) - none;
  return [
    {
      group: "Launch",
      name: `extra latency of the probe round: ${ACCOUNTS} never-checked accounts, ${LATENCY_MS} ms each`,
      value: ms(all),
      target: "reported",
      pass: null,
      runs,
      note:
        `spawn → first turn: ${ms(median(times.all))} with the round, ${ms(none)} with every ` +
        `account checked a moment ago; the round's first request also pays for a TLS ` +
        `handshake per connection (each request has its own, src/platform/http.ts)`,
    },
    {
      group: "Launch",
      name: `probe round of ${ACCOUNTS} accounts ÷ of 1 (the extra latency of each)`,
      value: `${ratio(all / one)} (${ms(all)} vs ${ms(one)})`,
      target: `≤ 2× (one by one: ${ACCOUNTS}×)`,
      pass: all / one <= 2,
      runs,
    },
  ];
}
