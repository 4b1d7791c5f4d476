/**
 * Session-file discovery (docs/decisions.md): findNewRollout with no old sessions against 10,000 old
 * ones — most spread over past day folders (never listed, by design), some in today's folder but
 * older than the launch (listed and rejected). Each timed call is a fresh discovery with the new
 * session's file already written, so it pays the whole first scan; the two homes alternate.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { findNewRollout } from "../codex/rollout-find.js";
import { tempHomes } from "./fixture.js";
import { median, ms, ratio, timeIt, type Figure, type Progress } from "./measure.js";
import { generateOldRollouts, writeRollout } from "./rollouts.js";

const OLD_TOTAL = 10_000;
/** About a day's worth at the helper's spacing (one session every 37 minutes). */
const OLD_TODAY = 40;

/** `count` sessions in today's folder, all started (and last written) before `before`. */
async function oldToday(sessionsDir: string, cwd: string, before: Date, count: number) {
  const startOfDay = new Date(before);
  startOfDay.setHours(0, 0, 0, 0);
  const span = Math.max(1000, before.getTime() - 60_000 - startOfDay.getTime());
  for (let i = 0; i < count; i += 1) {
    const t = new Date(startOfDay.getTime() + Math.floor((span * i) / count));
    await writeRollout(sessionsDir, { timestamp: t, cwd, padding: 40 });
  }
}

export async function benchDiscovery(progress: Progress, runs = 60): Promise<Figure[]> {
  await using homes = await tempHomes();
  const cwd = homes.project;
  const empty = path.join(homes.dir, "empty-sessions");
  const full = path.join(homes.dir, "full-sessions");
  await fs.mkdir(empty, { recursive: true });
  const now = new Date();
  progress(`discovery: writing ${OLD_TOTAL} old sessions`);
  await generateOldRollouts(full, {
    count: OLD_TOTAL - OLD_TODAY,
    now,
    cwd,
    endDaysAgo: 1,
    padding: 40,
  });
  await oldToday(full, cwd, now, OLD_TODAY);
  const launch = Date.now();
  // The new session, in both homes: what a codex launched at `launch` writes first.
  const started = new Date(launch + 50);
  const pre = [
    await writeRollout(empty, { timestamp: started, cwd }),
    await writeRollout(full, { timestamp: started, cwd }),
  ];

  const find = async (sessionsDir: string): Promise<number> => {
    let found = false;
    const took = await timeIt(async () => {
      found =
        (await findNewRollout({
          sessionsDir,
          since: launch,
          cwd,
          originator: "codex_exec",
          timeoutMs: 5000,
        })) !== null;
    });
    if (!found) throw new Error(`discovery found no new session in ${sessionsDir}`);
    return took;
  };
  const none: number[] = [];
  const many: number[] = [];
  for (let i = -3; i < runs; i += 1) {
    const a = await find(empty);
    const b = await find(full);
    if (i >= 0) {
      none.push(a);
      many.push(b);
    }
  }
  const m0 = median(none);
  const m1 = median(many);
  const r = m1 / m0;
  progress(`discovery: ${ms(m1)} with ${OLD_TOTAL} old vs ${ms(m0)} with none`);
  // Gone before the live runs, which must each find their own new file.
  for (const { file } of pre) await fs.rm(file);
  const live = await liveDiscovery(empty, full, cwd, Math.ceil(runs / 3));
  progress(`discovery as launched: ${ms(live.many)} vs ${ms(live.none)}`);
  const lr = live.many / live.none;
  return [
    {
      group: "Session discovery",
      name: `cold scan, ${OLD_TOTAL.toLocaleString("en")} old sessions ÷ none`,
      value: `${ratio(r)} (${ms(m1)} vs ${ms(m0)})`,
      target: "≤ 1.20×",
      pass: r <= 1.2,
      runs,
      note: `a cold scan: ${OLD_TODAY} of the old sessions are in today's folder (older than the launch); the rest are in ${Math.ceil(((OLD_TOTAL - OLD_TODAY) * 37) / 1440)} past days`,
    },
    {
      group: "Session discovery",
      name: `as launched: launch → found, the file appearing ${APPEARS_MS} ms in, ${OLD_TOTAL.toLocaleString("en")} old ÷ none`,
      value: `${ratio(lr)} (${ms(live.many)} vs ${ms(live.none)})`,
      target: "≤ 1.20×",
      pass: lr <= 1.2,
      runs: Math.ceil(runs / 3),
      note: "findNewRollout starts at the launch (its first poll sees only old files) and polls every 100 ms",
    },
  ];
}

/** About when codex writes its session file after being spawned. */
const APPEARS_MS = 150;

/**
 * Discovery as the supervisor does it: started at the launch, before codex has written anything,
 * with the new file appearing APPEARS_MS later; timed from the launch to the answer.
 */
async function liveDiscovery(
  empty: string,
  full: string,
  cwd: string,
  runs: number,
): Promise<{ none: number; many: number }> {
  const once = async (sessionsDir: string): Promise<number> => {
    const launch = Date.now();
    const finding = findNewRollout({
      sessionsDir,
      since: launch,
      cwd,
      originator: "codex_exec",
      timeoutMs: 5000,
    });
    await new Promise((r) => setTimeout(r, APPEARS_MS));
    const { file } = await writeRollout(sessionsDir, { timestamp: new Date(), cwd });
    const found = await finding;
    const took = Date.now() - launch;
    await fs.rm(file);
    if (found?.file !== file) throw new Error("live discovery did not find the new session");
    return took;
  };
  const none: number[] = [];
  const many: number[] = [];
  for (let i = 0; i < runs; i += 1) {
    none.push(await once(empty));
    many.push(await once(full));
  }
  return { none: median(none), many: median(many) };
}
