/**
 * `codex-pool status --refresh` (docs/decisions.md): 50 accounts, each usage probe answered after 50 ms
 * by the simulator, through the built CLI — the whole process, start to exit.
 */
import { CLI, simAccounts, startWorld } from "./fixture.js";
import { median, ms, runProcess, type Figure, type Progress } from "./measure.js";

const ACCOUNTS = 50;
const LATENCY_MS = 50;

export async function benchStatus(progress: Progress, runs = 7): Promise<Figure[]> {
  await using world = await startWorld(
    simAccounts(ACCOUNTS, { usage: { latencyMs: LATENCY_MS, primaryUsedPercent: 20 } }),
  );
  const times: number[] = [];
  for (let i = -1; i < runs; i += 1) {
    const before = world.sim.requests().filter((r) => r.kind === "usage").length;
    const { ms: took } = await runProcess(process.execPath, [CLI, "status", "--refresh"], {
      env: world.env,
      cwd: world.homes.project,
    });
    const probed = world.sim.requests().filter((r) => r.kind === "usage").length - before;
    if (probed !== ACCOUNTS) throw new Error(`status --refresh probed ${probed}/${ACCOUNTS}`);
    if (i >= 0) times.push(took);
  }
  const m = median(times);
  progress(`status --refresh: ${ms(m)}`);
  if (world.sim.strayRequests().length > 0) throw new Error("status sent non-loopback traffic");
  return [
    {
      group: "Quota",
      name: `\`status --refresh\`, ${ACCOUNTS} accounts, ${LATENCY_MS} ms latency each`,
      value: ms(m),
      target: "< 1 s",
      pass: m < 1000,
      runs,
    },
  ];
}
