/**
 * What the live-mode end-to-end tests look at besides the simulator: the processes a supervised
 * session left running (by command line, from /proc), and who sent each refresh.
 */
import fs from "node:fs/promises";
import path from "node:path";
import type { Simulator } from "../../src/simulator/index.js";
import { processesMentioning, processTable, type Proc } from "../helpers/processes.js";

export { processesMentioning, type Proc };

/**
 * The live-mode codex processes of a pool home (their CODEX_HOME is its `homes/live`):
 * app-servers, and clients attached to them (`--remote`).
 */
export async function codexProcesses(
  poolHome: string,
): Promise<{ appServers: Proc[]; clients: Proc[] }> {
  const appServers: Proc[] = [];
  const clients: Proc[] = [];
  for (const proc of await processTable()) {
    const environ = await fs.readFile(`/proc/${proc.pid}/environ`, "utf8").catch(() => "");
    if (!environ.split("\0").includes(`CODEX_HOME=${poolHome}/homes/live`)) continue;
    if (proc.argv.includes("app-server")) appServers.push(proc);
    else if (proc.argv.includes("--remote")) clients.push(proc);
  }
  return { appServers, clients };
}

/**
 * How many requests carried `text` as a user message: what tells a prompt went out (a count of all
 * turn requests would also count a title request, which the simulator logs as a turn when it is
 * refused, e.g. with a 401).
 */
export function carrying(sim: Simulator, text: string): () => number {
  return () => sim.requests().filter((r) => r.userTexts?.includes(text) === true).length;
}

/** Refreshes sent by a codex process (its user-agent names it): live mode must send none. */
export function refreshesByCodex(sim: Simulator): string[] {
  return sim
    .requests()
    .filter((r) => r.kind === "refresh" && /codex/i.test(r.userAgent ?? ""))
    .map((r) => `${r.accountId ?? "?"} ${r.userAgent ?? ""}`);
}

/**
 * The TCP sockets `pid` listens on, as `address:port` (Linux /proc: its socket inodes, matched in
 * /proc/net/tcp; IPv4 addresses only, IPv6 ones as their hex).
 */
export async function listeningSockets(pid: number): Promise<string[]> {
  const inodes = new Set<string>();
  for (const fd of await fs.readdir(`/proc/${pid}/fd`)) {
    const link = await fs.readlink(`/proc/${pid}/fd/${fd}`).catch(() => "");
    const m = /^socket:\[(\d+)\]$/.exec(link);
    if (m?.[1] !== undefined) inodes.add(m[1]);
  }
  const sockets: string[] = [];
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    const text = await fs.readFile(table, "utf8").catch(() => "");
    for (const line of text.split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/);
      const [local, state, inode] = [cols[1], cols[3], cols[9]];
      if (state !== "0A" || inode === undefined || !inodes.has(inode) || local === undefined) {
        continue;
      }
      const [hex = "", port = "0"] = local.split(":");
      const address =
        hex.length === 8
          ? (hex.match(/../g) ?? [])
              .reverse()
              .map((b) => parseInt(b, 16))
              .join(".")
          : hex;
      sockets.push(`${address}:${parseInt(port, 16)}`);
    }
  }
  return sockets;
}

/**
 * Every file under `dirs` (links followed, each file once) containing one of `needles`, named by
 * path and needle index (never the needle: they are secrets).
 */
export async function filesContaining(dirs: string[], needles: string[]): Promise<string[]> {
  const hits: string[] = [];
  const seen = new Set<string>();
  const walk = async (p: string): Promise<void> => {
    const real = await fs.realpath(p).catch(() => null);
    if (real === null || seen.has(real)) return;
    seen.add(real);
    const stat = await fs.stat(real);
    if (stat.isDirectory()) {
      for (const name of await fs.readdir(real)) await walk(path.join(real, name));
      return;
    }
    if (!stat.isFile()) return;
    const bytes = await fs.readFile(real);
    const text = bytes.toString("latin1");
    needles.forEach((needle, i) => {
      if (text.includes(needle)) hits.push(`${real} holds secret #${i}`);
    });
  };
  for (const dir of dirs) await walk(dir);
  return hits;
}
