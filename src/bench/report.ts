/** BENCHMARKS.md: the machine the figures were taken on, then every figure beside its target. */
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { CODEX_NATIVE, ROOT, tempHomes } from "./fixture.js";
import { runProcess, type Figure } from "./measure.js";

export interface Machine {
  readonly cpu: string;
  readonly cores: number;
  readonly memory: string;
  readonly os: string;
  readonly node: string;
  readonly codex: string;
  readonly date: string;
}

export async function describeMachine(now = new Date()): Promise<Machine> {
  const cpus = os.cpus();
  await using homes = await tempHomes();
  const codex = await runProcess(CODEX_NATIVE, ["--version"], { env: homes.env }).then(
    (r) => r.stdout.trim(),
    () => "unknown",
  );
  return {
    cpu: cpus[0]?.model.trim() ?? "unknown",
    cores: cpus.length,
    memory: `${(os.totalmem() / 1024 ** 3).toFixed(1)} GiB`,
    os: `${os.type()} ${os.release()} (${os.arch()})`,
    node: process.version,
    codex,
    date: now.toISOString(),
  };
}

const METHODS: Readonly<Record<string, string>> = {
  "Start-up":
    "each command is a fresh `node <script>` process in a throwaway HOME, the five commands " +
    "interleaved round by round after two warm-up rounds (src/bench/startup.ts).",
  "Session discovery":
    "a cold scan is one fresh `findNewRollout` call with the new session's file already written; " +
    "as launched, the call starts at the launch and the file appears 150 ms later. Both alternate " +
    "between a sessions folder holding only the new session and one holding 10,000 old ones too " +
    "(src/bench/discovery.ts).",
  Quota:
    "the built CLI's `status --refresh`, start to exit, against the simulator answering each " +
    "usage probe after 50 ms (src/bench/status.ts).",
  "Pool store":
    "N worker processes released together, each running 50 read-modify-write transactions that " +
    "add 1 to a counter in a pool of 11 accounts; the rate is all transactions over the wall " +
    "time (src/bench/store.ts).",
  "Shared pool":
    "a throwaway PostgreSQL 15 (initdb + pg_ctl, fsync off) and 8 worker processes on 8 pool " +
    "homes refreshing through the claim protocol against the simulator's token endpoint, which " +
    "refuses a reused refresh token. Storm: each round all 8 refresh the same 3 expired accounts " +
    "at once. Takeover: a holder stops itself right after claiming and is killed; the time runs " +
    "from the kill to another process's refreshed result (src/bench/pg.ts).",
  Memory:
    "VmRSS/VmHWM from /proc of the `codex-pool run` process (not codex) while the simulator " +
    "holds an exec turn for 3 s (src/bench/memory.ts).",
  Switch:
    "a supervised `run -- exec` where account A answers the first turn with the usage-limit 429; " +
    "the gap runs from that 429 to the first turn request under B, both from the simulator's " +
    "log. The yardstick is a bare native `codex exec resume <id>` of the same session on B, from " +
    "spawn to its first turn request (src/bench/switch-gap.ts).",
  Live:
    "the live switch: a supervised TUI (`codex-pool run` under tmux, the real codex) on A, 12 % " +
    "left after its first turn (so B is chosen and checked ahead), fails its second turn on the " +
    "usage limit; the gap runs from that 429 to the continuation's turn request under B, both from " +
    "the simulator's log, and the yardstick is a bare native `codex exec resume` of the session on " +
    "B, spawn to first turn request. RSS: VmRSS of `codex-pool run`, sampled every 50 ms from the " +
    "TUI's start to B's answer. Relay overhead: `turn/start` → `turn/completed` of a client " +
    "through the relay and of one attached directly to the same app-server, interleaved " +
    "(src/bench/live.ts).",
  Launch:
    "a supervised `run -- exec` on a pool of 10 accounts, spawn to its first turn request, run " +
    "alternately with every account checked a moment ago, with one never checked and with none " +
    "ever checked (the launch then probes those first, all at once, each usage answer taking " +
    "50 ms); the figures are differences of the medians (src/bench/launch-probe.ts).",
};

function verdict(pass: boolean | null): string {
  if (pass === null) return "—";
  return pass ? "pass" : "**FAIL**";
}

export function renderReport(
  machine: Machine,
  figures: readonly Figure[],
  seconds: number,
): string {
  const lines = [
    "# Benchmarks",
    "",
    "Produced by `npm run bench` (src/bench/): every figure below comes from one run, taken side by",
    "side on the same machine, each the median of the number of runs shown, against the simulator on",
    '127.0.0.1. Targets are docs/decisions.md\'s "Performance targets". Re-run it to refresh this file.',
    "",
    "## Machine",
    "",
    `- CPU: ${machine.cpu} × ${machine.cores} cores`,
    `- Memory: ${machine.memory}`,
    `- OS: ${machine.os}`,
    `- Node: ${machine.node}`,
    `- Codex: ${machine.codex} (native binary, @openai/codex)`,
    `- Date: ${machine.date}`,
    `- Bench wall time: ${seconds.toFixed(0)} s`,
    "",
    "## Figures",
    "",
    "| Area | Figure | Median | Target | Result | Runs |",
    "| --- | --- | --- | --- | --- | --- |",
  ];
  for (const f of figures) {
    lines.push(
      `| ${f.group} | ${f.name} | ${f.value} | ${f.target} | ${verdict(f.pass)} | ${f.runs} |`,
    );
  }
  lines.push("", "## How each figure is taken", "");
  for (const [area, how] of Object.entries(METHODS)) lines.push(`- **${area}:** ${how}`);
  const notes = figures.filter((f) => f.note !== undefined);
  if (notes.length > 0) {
    lines.push("", "## Notes", "");
    for (const f of notes) lines.push(`- ${f.group}, ${f.name}: ${f.note}`);
  }
  return lines.join("\n") + "\n";
}

export async function writeReport(text: string): Promise<string> {
  const file = path.join(ROOT, "BENCHMARKS.md");
  await fs.writeFile(file, text);
  return file;
}
