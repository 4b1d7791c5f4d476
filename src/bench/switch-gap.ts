/**
 * The switch gap (docs/decisions.md): in a supervised exec run where account A answers the first turn
 * with the usage-limit 429 and B serves the resume, the time from A's 429 to the resumed session's
 * first turn request under B (both from the simulator's request log). The yardstick, in the same
 * round: a bare native `codex exec resume <id> "…"` of that session — from spawning it to its first
 * turn request at the simulator. Each round uses a fresh world, so A's limit is news each time.
 */
import { spawn } from "node:child_process";
import fs from "node:fs/promises";
import path from "node:path";
import { sessionIdFromRolloutName } from "../codex/session-id.js";
import { writeFileAtomic } from "../platform/atomic-file.js";
import { SETTINGS } from "../platform/settings-table.js";
import type { SimRequest } from "../simulator/index.js";
import { CLI, CODEX_NATIVE, startWorld, type World } from "./fixture.js";
import { median, ms, ratio, runProcess, type Figure, type Progress } from "./measure.js";

const CONTINUE = SETTINGS.continuationPrompt.default;

export async function sessionIdIn(codexHome: string): Promise<string> {
  const names = await fs.readdir(path.join(codexHome, "sessions"), { recursive: true });
  for (const name of names) {
    const id = sessionIdFromRolloutName(path.basename(name));
    if (id !== null) return id;
  }
  throw new Error("the supervised run left no session file");
}

export interface Timing {
  /** To the first turn request under B: the figure. */
  readonly turn: number;
  /** To codex's first request under B (not our usage probes): codex's own start-up ends here. */
  readonly codexFirst: number;
}

/** The first request by codex on B at or after `from` (our supervisor's usage probes excluded). */
function codexFirstOnB(requests: SimRequest[], from: number): SimRequest | undefined {
  return requests.find((r) => r.accountId === "acct-B" && r.at >= from && r.kind !== "usage");
}

/** Spawns the native codex to resume `id` on B, and times spawn → first turn at the simulator. */
export async function bareResume(world: World, id: string): Promise<Timing> {
  const auth = JSON.stringify(world.sim.authJsonFor("acct-B"), null, 2) + "\n";
  await writeFileAtomic(path.join(world.homes.codexHome, "auth.json"), auth, { mode: 0o600 });
  const start = Date.now();
  const child = spawn(
    CODEX_NATIVE,
    ["exec", "--skip-git-repo-check", "resume", id, "--", CONTINUE],
    { env: world.env, cwd: world.homes.project, stdio: ["ignore", "ignore", "pipe"] },
  );
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
  const turn = await world.sim.waitForRequest(
    (r) => r.kind === "turn" && r.accountId === "acct-B" && r.at >= start,
    60_000,
  );
  const code = await exited;
  if (code !== 0) throw new Error(`codex exec resume exited ${code}: ${stderr.slice(-500)}`);
  const first = codexFirstOnB(world.sim.requests(), start) ?? turn;
  return { turn: turn.at - start, codexFirst: first.at - start };
}

function gapOf(requests: SimRequest[]): Timing {
  const limit = requests.find((r) => r.kind === "turn" && r.status === 429);
  if (limit === undefined || limit.accountId !== "acct-A") throw new Error("A never sent its 429");
  const resumed = requests.find(
    (r) => r.kind === "turn" && r.accountId === "acct-B" && r.at >= limit.at,
  );
  if (resumed === undefined || resumed.status !== 200) throw new Error("B never served the resume");
  if (!resumed.userTexts?.some((t) => t === CONTINUE)) {
    throw new Error("the resumed turn did not carry the continuation prompt");
  }
  const first = codexFirstOnB(requests, limit.at) ?? resumed;
  return { turn: resumed.at - limit.at, codexFirst: first.at - limit.at };
}

async function oneRound(): Promise<{ gap: Timing; bare: Timing }> {
  await using world = await startWorld([
    { accountId: "acct-A", email: "alice@example.com", turns: { limitAfter: 0 } },
    { accountId: "acct-B", email: "bob@example.com" },
  ]);
  await runProcess(
    process.execPath,
    // The relaunching switch (live.ts measures the live one).
    [CLI, "run", "--mode", "relaunch", "--", "exec", "--skip-git-repo-check", "write the tests"],
    { env: world.env, cwd: world.homes.project },
  );
  const gap = gapOf(world.sim.requests());
  const id = await sessionIdIn(world.homes.codexHome);
  const bare = await bareResume(world, id);
  if (world.sim.strayRequests().length > 0) throw new Error("codex sent non-loopback traffic");
  return { gap, bare };
}

export async function benchSwitchGap(progress: Progress, runs = 7): Promise<Figure[]> {
  const gaps: Timing[] = [];
  const bares: Timing[] = [];
  for (let i = 0; i < runs; i += 1) {
    const { gap, bare } = await oneRound();
    gaps.push(gap);
    bares.push(bare);
    progress(`switch gap: round ${i + 1}/${runs}: ${ms(gap.turn)} vs bare resume ${ms(bare.turn)}`);
  }
  const g = median(gaps.map((t) => t.turn));
  const b = median(bares.map((t) => t.turn));
  const gFirst = median(gaps.map((t) => t.codexFirst));
  const bFirst = median(bares.map((t) => t.codexFirst));
  const r = g / b;
  return [
    {
      group: "Switch",
      name: "relaunch: 429 → first turn on the next account ÷ bare `codex exec resume` start-up",
      value: `${ratio(r)} (${ms(g)} vs ${ms(b)})`,
      target: "≤ 1.50×",
      pass: r <= 1.5,
      runs,
      note:
        `codex's first request on B (its start-up done) came ${ms(gFirst)} after the 429 in the ` +
        `switch and ${ms(bFirst)} after the spawn in the bare resume; the rest of each is codex ` +
        `going from there to its turn`,
    },
  ];
}
