/**
 * Start-up (docs/decisions.md): `codex-pool run -- --version` against the npm `codex --version` (the
 * launcher script, which itself spawns the native binary), side by side in one loop so machine
 * noise hits both alike; `codex-pool --version` and `list` on their own; the native binary for
 * reference. Every command runs under node directly, as its `#!/usr/bin/env node` line would.
 */
import { startSimulator } from "../simulator/index.js";
import {
  CLI,
  CODEX_LAUNCHER,
  CODEX_NATIVE,
  addSimAccounts,
  openStore,
  simAccounts,
  tempHomes,
} from "./fixture.js";
import { median, ms, ratio, runProcess, type Figure, type Progress } from "./measure.js";

const GROUP = "Start-up";

export async function benchStartup(progress: Progress, runs = 21): Promise<Figure[]> {
  await using homes = await tempHomes();
  // A pool of a few accounts for `list` (tokens minted by a simulator we then close).
  const sim = await startSimulator({ accounts: simAccounts(5) });
  try {
    await addSimAccounts(openStore(homes.poolHome), sim, simAccounts(5));
  } finally {
    await sim.close();
  }
  const env = homes.env;
  const node = process.execPath;
  const cases = {
    launcher: () => runProcess(node, [CODEX_LAUNCHER, "--version"], { env }),
    runVersion: () => runProcess(node, [CLI, "run", "--", "--version"], { env }),
    version: () => runProcess(node, [CLI, "--version"], { env }),
    list: () => runProcess(node, [CLI, "list"], { env }),
    native: () => runProcess(CODEX_NATIVE, ["--version"], { env }),
    node: () => runProcess(node, ["-e", "0"], { env }),
  };
  const times: Record<keyof typeof cases, number[]> = {
    launcher: [],
    runVersion: [],
    version: [],
    list: [],
    native: [],
    node: [],
  };
  const names = Object.keys(cases) as (keyof typeof cases)[];
  // Two warm-up rounds fill the page cache; they are not counted.
  for (let round = -2; round < runs; round += 1) {
    for (const name of names) {
      const { ms: took } = await cases[name]();
      if (round >= 0) times[name].push(took);
    }
    if (round >= 0 && (round + 1) % 5 === 0) progress(`start-up: ${round + 1}/${runs} rounds`);
  }
  const m = Object.fromEntries(names.map((n) => [n, median(times[n])])) as Record<
    keyof typeof cases,
    number
  >;
  const r = m.runVersion / m.launcher;
  return [
    {
      group: GROUP,
      name: "`codex-pool run -- --version` ÷ npm `codex --version`",
      value: `${ratio(r)} (${ms(m.runVersion)} vs ${ms(m.launcher)})`,
      target: "≤ 1.10×",
      pass: r <= 1.1,
      runs,
    },
    {
      group: GROUP,
      name: "`codex-pool --version`",
      value: ms(m.version),
      target: "well under 150 ms",
      pass: m.version < 150,
      runs,
    },
    {
      group: GROUP,
      name: "`codex-pool list` (5 accounts)",
      value: ms(m.list),
      target: "well under 150 ms",
      pass: m.list < 150,
      runs,
    },
    {
      group: GROUP,
      name: "native `codex --version`",
      value: ms(m.native),
      target: "reference",
      pass: null,
      runs,
    },
    {
      group: GROUP,
      name: "bare `node -e 0`",
      value: ms(m.node),
      target: "reference",
      pass: null,
      runs,
    },
  ];
}
