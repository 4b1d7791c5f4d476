/**
 * `npm run bench`: every figure of docs/decisions.md's performance targets in one run, progress on
 * stderr, the table on stdout, and BENCHMARKS.md written at the package root. A figure whose
 * measurement breaks is reported as an error (and the run exits 1); a missed target is a figure.
 */
import { benchDiscovery } from "./discovery.js";
import { benchLaunchProbe } from "./launch-probe.js";
import { benchLive } from "./live.js";
import type { Figure, Progress } from "./measure.js";
import { benchMemory } from "./memory.js";
import { benchSharedPool } from "./pg.js";
import { describeMachine, renderReport, writeReport } from "./report.js";
import { benchStartup } from "./startup.js";
import { benchStatus } from "./status.js";
import { benchStore } from "./store.js";
import { benchSwitchGap } from "./switch-gap.js";

const began = Date.now();
const progress: Progress = (line) => {
  const t = ((Date.now() - began) / 1000).toFixed(0).padStart(4);
  process.stderr.write(`[${t} s] ${line}\n`);
};

const only = process.env["CODEX_POOL_BENCH_ONLY"];
const all: [string, (p: Progress) => Promise<Figure[]>][] = [
  ["Start-up", benchStartup],
  ["Session discovery", benchDiscovery],
  ["Quota", benchStatus],
  ["Pool store", benchStore],
  ["Shared pool", benchSharedPool],
  ["Memory", benchMemory],
  ["Switch", benchSwitchGap],
  ["Live", benchLive],
  ["Launch", benchLaunchProbe],
];
// One group alone (while working on it); BENCHMARKS.md is then not rewritten.
const benches = only === undefined ? all : all.filter(([group]) => group === only);

const figures: Figure[] = [];
let broken = 0;
const machine = await describeMachine();
progress(`machine: ${machine.cpu} × ${machine.cores}, node ${machine.node}, ${machine.codex}`);
for (const [group, bench] of benches) {
  progress(`${group}…`);
  try {
    figures.push(...(await bench(progress)));
  } catch (error) {
    broken += 1;
    const message = error instanceof Error ? error.message : String(error);
    progress(`${group} broke: ${message}`);
    figures.push({
      group,
      name: "measurement failed",
      value: `error: ${message.split("\n")[0]}`,
      target: "—",
      pass: false,
      runs: 0,
    });
  }
}
const seconds = (Date.now() - began) / 1000;
const text = renderReport(machine, figures, seconds);
const file = only === undefined ? await writeReport(text) : "(not written: one group only)";
process.stdout.write(text);
const missed = figures.filter((f) => f.pass === false).length;
progress(`wrote ${file} in ${seconds.toFixed(0)} s; ${missed} figure(s) miss their target`);
process.exitCode = broken > 0 ? 1 : 0;
