/**
 * Binding a launch to its rollout file, i.e. learning the session it runs:
 * - a resumed session is known by id: its file is looked up once;
 * - a new session, on Linux: the rollout file the child (or codex behind a wrapper it started)
 *   holds open (/proc/<pid>/fd). This is exact: a second codex started in the same folder at about
 *   the same time (another supervised session, or the user's own) can never be mistaken for ours
 *   (docs/supervisor-rules.md O4; two supervised runs in one folder did bind the same session before).
 * - without /proc: the newest matching file in the few date folders it can be in
 *   (rollout-find.ts), skipping sessions other live supervisors are bound to.
 * Every poll costs a handful of small listings, never a walk of the sessions tree (R4).
 */
import fs from "node:fs/promises";
import path from "node:path";
import { findNewRollout, readSessionMeta } from "../codex/rollout-find.js";
import { sessionIdFromRolloutName } from "../codex/session-id.js";
import type { Clock } from "../platform/clock.js";
import { hasErrorCode } from "../platform/errors.js";

export interface BindRequest {
  readonly sessionsDir: string;
  readonly sessionId: string | null;
  /** The file found by an earlier launch of this session. */
  readonly knownFile: string | null;
  /** The child's pid (codex, or a wrapper: its descendants are searched too). */
  readonly pid: number | null;
  readonly launchedAt: number;
  readonly cwd: string;
  readonly originator: "codex_exec" | "codex-tui";
  readonly bindTimeoutMs: number;
  readonly clock: Clock;
  readonly signal: AbortSignal;
  /** Session ids other live supervised sessions are bound to. */
  otherSessions(): Promise<ReadonlySet<string>>;
}

export interface Bound {
  readonly file: string;
  readonly sessionId: string;
}

const PROC = "/proc";
/** How often a launch's open files are looked at until bound (a few small /proc reads each). */
const PID_POLL_MS = 100;
const EXEC_PID_POLL_MS = 25;

function isRolloutName(name: string): boolean {
  return name.startsWith("rollout-") && name.endsWith(".jsonl");
}

/** Finds a known session's rollout by its id, newest date folders first; null when absent. */
export async function findRolloutById(
  sessionsDir: string,
  sessionId: string,
): Promise<string | null> {
  const id = sessionId.toLowerCase();
  const listDesc = async (dir: string): Promise<string[]> => {
    try {
      return (await fs.readdir(dir)).sort().reverse();
    } catch (error) {
      if (hasErrorCode(error, "ENOENT", "ENOTDIR")) return [];
      throw error;
    }
  };
  for (const year of await listDesc(sessionsDir)) {
    for (const month of await listDesc(path.join(sessionsDir, year))) {
      for (const day of await listDesc(path.join(sessionsDir, year, month))) {
        const dir = path.join(sessionsDir, year, month, day);
        for (const name of await listDesc(dir)) {
          if (sessionIdFromRolloutName(name) === id) return path.join(dir, name);
        }
      }
    }
  }
  return null;
}

/** The children of `pid` (all its threads'), from /proc; [] when unknown. */
async function childrenOf(pid: number, procRoot: string): Promise<number[]> {
  const taskDir = path.join(procRoot, String(pid), "task");
  const tids = await fs.readdir(taskDir).catch(() => [] as string[]);
  const out: number[] = [];
  for (const tid of tids) {
    const text = await fs.readFile(path.join(taskDir, tid, "children"), "utf8").catch(() => "");
    for (const part of text.split(" ")) {
      const n = Number(part);
      if (Number.isInteger(n) && n > 0) out.push(n);
    }
  }
  return out;
}

async function rolloutAmongFds(
  pid: number,
  root: string,
  procRoot: string,
): Promise<string | null> {
  const fdDir = path.join(procRoot, String(pid), "fd");
  const fds = await fs.readdir(fdDir).catch(() => [] as string[]);
  for (const fd of fds) {
    let target: string;
    try {
      target = await fs.readlink(path.join(fdDir, fd));
    } catch {
      continue; // closed meanwhile
    }
    if (!isRolloutName(path.basename(target))) continue;
    const rel = path.relative(root, target);
    if (rel.startsWith("..") || path.isAbsolute(rel)) continue;
    return target;
  }
  return null;
}

/** What a process has open: its rollout; none (yet); "gone" (exited); no readable /proc. */
export type OpenRollout =
  | { readonly kind: "open"; readonly file: string }
  | { readonly kind: "none" | "gone" | "unsupported" };

/** The rollout file process `pid` (or a descendant: codex behind a wrapper) has open. */
export async function openRollout(
  pid: number,
  sessionsDir: string,
  procRoot = PROC,
): Promise<OpenRollout> {
  const alive = await fs.access(path.join(procRoot, String(pid), "fd")).then(
    () => true,
    () => false,
  );
  if (!alive) {
    const procWorks = await fs.access(path.join(procRoot, "self", "fd")).then(
      () => true,
      () => false,
    );
    return { kind: procWorks ? "gone" : "unsupported" };
  }
  // The child may reach the sessions folder through a link (the overlay home links it).
  const root = await fs.realpath(sessionsDir).catch(() => path.resolve(sessionsDir));
  // Breadth-first over a small bounded family: codex, or a wrapper and the codex it starts.
  const queue = [pid];
  for (let seen = 0; seen < queue.length && seen < 16; seen += 1) {
    const current = queue[seen]!;
    const file = await rolloutAmongFds(current, root, procRoot);
    if (file !== null) return { kind: "open", file };
    queue.push(...(await childrenOf(current, procRoot)));
  }
  return { kind: "none" };
}

async function bindByPid(req: BindRequest, pid: number): Promise<Bound | null | "unsupported"> {
  const slowAfter = req.launchedAt + req.bindTimeoutMs;
  while (!req.signal.aborted) {
    const open = await openRollout(pid, req.sessionsDir);
    if (open.kind === "unsupported") return "unsupported";
    // Exited before we saw its file: the watcher's drain looks once more (findExitedRollout).
    if (open.kind === "gone") return null;
    if (open.kind === "open") {
      const meta = await readSessionMeta(open.file);
      if (meta !== null) return { file: open.file, sessionId: meta.id };
    }
    // The TUI opens its rollout only with the first prompt, which may come much later; exec opens
    // it at once and may hit the limit on its first turn, which is seen only once bound.
    const quick = req.originator === "codex_exec" ? EXEC_PID_POLL_MS : PID_POLL_MS;
    await req.clock.sleep(req.clock.now() < slowAfter ? quick : 1000, req.signal);
  }
  return null;
}

async function bindByListing(req: BindRequest): Promise<Bound | null> {
  let timeoutMs = req.bindTimeoutMs;
  let pollMs = 100;
  while (!req.signal.aborted) {
    const found = await findNewRollout({
      sessionsDir: req.sessionsDir,
      since: req.launchedAt,
      cwd: req.cwd,
      originator: req.originator,
      exclude: await req.otherSessions(),
      signal: req.signal,
      timeoutMs,
      pollMs,
      clock: req.clock,
    });
    if (found !== null) return { file: found.file, sessionId: found.meta.id };
    // After the bind timeout keep looking, but slowly (four small listings every few seconds).
    timeoutMs = 60_000;
    pollMs = 3_000;
  }
  return null;
}

/** Waits for the launch's rollout file; null once `signal` aborts first. */
export async function bindRollout(req: BindRequest): Promise<Bound | null> {
  if (req.sessionId !== null) {
    const file = req.knownFile ?? (await findRolloutById(req.sessionsDir, req.sessionId));
    if (file !== null) return { file, sessionId: req.sessionId };
  }
  if (req.pid !== null) {
    const bound = await bindByPid(req, req.pid);
    if (bound !== "unsupported") return bound;
  }
  return bindByListing(req);
}

/** After the child exited: its rollout, if it wrote one we had not found yet (a fast exec). */
export async function findExitedRollout(
  req: Omit<BindRequest, "signal" | "pid" | "bindTimeoutMs" | "sessionId" | "knownFile">,
): Promise<Bound | null> {
  const found = await findNewRollout({
    sessionsDir: req.sessionsDir,
    since: req.launchedAt,
    cwd: req.cwd,
    originator: req.originator,
    exclude: await req.otherSessions(),
    timeoutMs: 0,
    clock: req.clock,
  });
  return found === null ? null : { file: found.file, sessionId: found.meta.id };
}
