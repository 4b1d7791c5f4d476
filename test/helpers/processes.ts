/**
 * The processes of this machine as the tests look at them (Linux /proc): who runs what, who is
 * whose child, and waiting for processes to be gone. A process that ends while it is read is
 * simply not listed.
 */
import fs from "node:fs/promises";
import { processAlive } from "../../src/platform/process-alive.js";

export interface Proc {
  readonly pid: number;
  readonly ppid: number;
  readonly argv: string[];
  /** Its working directory ("" when it cannot be read). */
  readonly cwd: string;
}

/** Every process this user can see. */
export async function processTable(): Promise<Proc[]> {
  const found: Proc[] = [];
  for (const name of await fs.readdir("/proc").catch(() => [])) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = await fs.readFile(`/proc/${name}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      const argv = (await fs.readFile(`/proc/${name}/cmdline`, "utf8")).split("\0").slice(0, -1);
      const cwd = await fs.readlink(`/proc/${name}/cwd`).catch(() => "");
      found.push({ pid: Number(name), ppid, argv, cwd });
    } catch {
      // Gone meanwhile.
    }
  }
  return found;
}

/** Every process whose command line mentions `needle`. */
export async function processesMentioning(needle: string): Promise<Proc[]> {
  return (await processTable()).filter((p) => p.argv.some((a) => a.includes(needle)));
}

/** `pid` and every process below it (children, their children…), as they are now. */
export async function processTree(pid: number): Promise<number[]> {
  const table = await processTable();
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) {
    for (const p of table) if (p.ppid === tree[i]) tree.push(p.pid);
  }
  return tree;
}

/** Resolves once none of `pids` is alive; false if some still are after `timeoutMs`. */
export async function allGone(pids: readonly number[], timeoutMs = 30_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (pids.every((p) => !processAlive(p))) return true;
    if (Date.now() > deadline) return false;
    // Polling is the only way to see an unrelated process end; bounded by the deadline.
    await new Promise((r) => setTimeout(r, 50));
  }
}
