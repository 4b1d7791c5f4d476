/**
 * What the live-mode end-to-end tests look at besides the simulator: the processes a supervised
 * session left running (by command line, from /proc), and who sent each refresh.
 */
import fs from "node:fs/promises";
import type { Simulator } from "../../src/simulator/index.js";

export interface Proc {
  readonly pid: number;
  readonly ppid: number;
  readonly argv: string[];
}

/** Every process whose command line mentions `needle` (Linux /proc). */
export async function processesMentioning(needle: string): Promise<Proc[]> {
  const found: Proc[] = [];
  for (const name of await fs.readdir("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const argv = (await fs.readFile(`/proc/${name}/cmdline`, "utf8")).split("\0").slice(0, -1);
      if (!argv.some((a) => a.includes(needle))) continue;
      const stat = await fs.readFile(`/proc/${name}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      found.push({ pid: Number(name), ppid, argv });
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/**
 * The live-mode codex processes of a pool home (their CODEX_HOME is its `homes/live`):
 * app-servers, and clients attached to them (`--remote`).
 */
export async function codexProcesses(
  poolHome: string,
): Promise<{ appServers: Proc[]; clients: Proc[] }> {
  const appServers: Proc[] = [];
  const clients: Proc[] = [];
  for (const name of await fs.readdir("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const environ = (await fs.readFile(`/proc/${name}/environ`, "utf8")).split("\0");
      if (!environ.some((e) => e === `CODEX_HOME=${poolHome}/homes/live`)) continue;
      const argv = (await fs.readFile(`/proc/${name}/cmdline`, "utf8")).split("\0").slice(0, -1);
      const stat = await fs.readFile(`/proc/${name}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      const proc = { pid: Number(name), ppid, argv };
      if (argv.includes("app-server")) appServers.push(proc);
      else if (argv.includes("--remote")) clients.push(proc);
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return { appServers, clients };
}

/** Refreshes sent by a codex process (its user-agent names it): live mode must send none. */
export function refreshesByCodex(sim: Simulator): string[] {
  return sim
    .requests()
    .filter((r) => r.kind === "refresh" && /codex/i.test(r.userAgent ?? ""))
    .map((r) => `${r.accountId ?? "?"} ${r.userAgent ?? ""}`);
}
