/**
 * Finding the rollout file of the session a child just started, at a cost that does not grow with
 * the user's history (docs/supervisor-rules.md R4): only the date folders the new file can be in are
 * listed — sessions/YYYY/MM/DD of the launch day and of now, in local time and in UTC (around
 * midnight, or if codex ever names folders in UTC), at most four small listings per poll, never
 * the tree. A file is a candidate when its name is new since the previous listing, it was modified
 * after the launch, and its session_meta matches the launch: cwd, start time and originator. That
 * match also keeps a second codex in the same folder from being mistaken for ours (O4) unless it
 * started in the same instant with the same originator.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { systemClock, type Clock } from "../platform/clock.js";
import { hasErrorCode } from "../platform/errors.js";
import { sessionMetaOf, type SessionMeta } from "./rollout-events.js";
import { sessionIdFromRolloutName } from "./session-id.js";

export interface FoundRollout {
  readonly file: string;
  readonly meta: SessionMeta;
}

export interface FindRolloutOptions {
  /** $CODEX_HOME/sessions (the real one; the overlay links to it). */
  sessionsDir: string;
  /** When the child was launched (ms since epoch); files and sessions older than this are old. */
  since: number;
  /** The child's working directory (compared after resolving links). */
  cwd: string;
  /** `codex_exec` or `codex-tui`, when known. */
  originator?: string;
  /** Session ids to ignore (sessions already bound). */
  exclude?: ReadonlySet<string>;
  signal?: AbortSignal;
  /** Give up (return null) after this long. */
  timeoutMs: number;
  pollMs?: number;
  clock?: Clock;
  /** Allowed clock skew between us and codex's timestamps. */
  slackMs?: number;
}

function pad(n: number): string {
  return String(n).padStart(2, "0");
}

/** The date folders (relative, `YYYY/MM/DD`) that can hold a session started at `times`. */
export function candidateDayFolders(times: readonly number[]): string[] {
  const out = new Set<string>();
  for (const t of times) {
    const d = new Date(t);
    out.add(`${d.getFullYear()}/${pad(d.getMonth() + 1)}/${pad(d.getDate())}`);
    out.add(`${d.getUTCFullYear()}/${pad(d.getUTCMonth() + 1)}/${pad(d.getUTCDate())}`);
  }
  return [...out];
}

/** The creation time (ms) encoded in a UUIDv7, or null for any other UUID version. */
export function uuidV7Time(id: string): number | null {
  const hex = id.replace(/-/g, "");
  if (hex.length !== 32 || hex[12] !== "7") return null;
  return parseInt(hex.slice(0, 12), 16);
}

async function realCwd(dir: string): Promise<string> {
  try {
    return await fs.realpath(dir);
  } catch {
    return path.resolve(dir);
  }
}

/** Reads the first line (session_meta) without reading the whole file; null if not there yet. */
export async function readSessionMeta(
  file: string,
  maxBytes = 1024 * 1024,
): Promise<SessionMeta | null> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(file, "r");
  } catch (error) {
    if (hasErrorCode(error, "ENOENT", "EACCES", "EPERM")) return null;
    throw error;
  }
  try {
    const chunks: Buffer[] = [];
    let total = 0;
    const buf = Buffer.alloc(64 * 1024);
    while (total < maxBytes) {
      const { bytesRead } = await handle.read(buf, 0, buf.length, total);
      if (bytesRead === 0) return null; // first line not complete yet
      const piece = buf.subarray(0, bytesRead);
      const nl = piece.indexOf(0x0a);
      chunks.push(Buffer.from(nl === -1 ? piece : piece.subarray(0, nl)));
      total += bytesRead;
      if (nl !== -1) break;
    }
    let json: unknown;
    try {
      json = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    } catch {
      return null;
    }
    if (
      typeof json !== "object" ||
      json === null ||
      (json as { type?: unknown }).type !== "session_meta"
    ) {
      return null;
    }
    return sessionMetaOf((json as { payload?: unknown }).payload);
  } finally {
    await handle.close();
  }
}

async function listRollouts(dir: string): Promise<string[]> {
  try {
    return (await fs.readdir(dir)).filter((n) => n.startsWith("rollout-") && n.endsWith(".jsonl"));
  } catch (error) {
    if (hasErrorCode(error, "ENOENT", "ENOTDIR")) return [];
    throw error;
  }
}

/**
 * Waits for the new session's rollout file. Returns null on timeout; rejects if `signal` aborts.
 */
export async function findNewRollout(options: FindRolloutOptions): Promise<FoundRollout | null> {
  const clock = options.clock ?? systemClock;
  const slack = options.slackMs ?? 2000;
  const pollMs = options.pollMs ?? 100;
  const deadline = clock.now() + options.timeoutMs;
  const cwd = await realCwd(options.cwd);
  // Names that were there before (or did not match) are not looked at again.
  const rejected = new Set<string>();
  // A matching file may exist before its first line is complete: look at it again next poll.
  for (;;) {
    const now = clock.now();
    for (const day of candidateDayFolders([options.since - slack, now])) {
      const dir = path.join(options.sessionsDir, day);
      for (const name of await listRollouts(dir)) {
        if (rejected.has(name)) continue;
        const id = sessionIdFromRolloutName(name);
        if (id === null || options.exclude?.has(id)) {
          rejected.add(name);
          continue;
        }
        // Session ids are UUIDv7: their first 48 bits are the creation time in ms. An old session
        // is rejected by its name alone, without a stat, so a full day folder costs no I/O per file.
        const created = uuidV7Time(id);
        if (created !== null && created < options.since - slack) {
          rejected.add(name);
          continue;
        }
        const file = path.join(dir, name);
        let mtime: number;
        try {
          mtime = (await fs.stat(file)).mtimeMs;
        } catch {
          continue;
        }
        if (mtime < options.since - slack) {
          rejected.add(name);
          continue;
        }
        const meta = await readSessionMeta(file);
        if (meta === null) continue; // not written yet
        const matches =
          meta.id === id &&
          (meta.startedAt === null || meta.startedAt >= options.since - slack) &&
          (meta.cwd === null || (await realCwd(meta.cwd)) === cwd) &&
          (options.originator === undefined || meta.originator === options.originator);
        if (matches) return { file, meta };
        rejected.add(name);
      }
    }
    if (clock.now() >= deadline) return null;
    await clock.sleep(Math.min(pollMs, Math.max(1, deadline - clock.now())), options.signal);
  }
}
