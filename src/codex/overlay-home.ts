/**
 * Per-account Codex homes (docs/decisions.md decision 2): <poolHome>/homes/<account id>/ holds the
 * account's own auth.json (0600) and a symlink to every other entry of the user's real Codex home,
 * so sessions, config and history are shared whichever account runs.
 *
 * What codex 0.169 writes into its home, and how each lands in the real one (observed with the
 * real binary, test/codex/overlay-home.e2e.test.ts re-checks it):
 * - SQLite state (state_5, logs_2, goals_1, memories_1, queue_1, thread_history_1 + -wal/-shm):
 *   created next to CODEX_HOME unless CODEX_SQLITE_HOME says otherwise, so the child gets
 *   CODEX_SQLITE_HOME=<real home> (see child-env.ts).
 * - sessions/, shell_snapshots/, skills/, thread-writer-locks/, log/, history.jsonl: created on
 *   first use when missing, so they are pre-created in the real home and linked before launch.
 * - config.toml: codex 0.169 edits it through the link (`codex mcp add` left the link in place and
 *   changed the real file). An editor that writes a temp file and renames it over the path would
 *   REPLACE the link with a regular file instead; and a home without config.toml gets a new
 *   regular file in the overlay. Both are caught after the child exits by reconcileAccountHome,
 *   which moves any regular entry back into the real home (newer file wins) and re-links it.
 * - installation_id, .sandbox_migration and anything unknown: same reconciliation.
 * - The app-server daemon's files (packages/, app-server-daemon/, app-server-control/) stay per
 *   account on purpose: a daemon caches auth, and a shared one would serve every account with
 *   the first one's token (docs/codex-cli.md §5.4).
 * Live mode's app-server runs from a home built the same way but without auth.json
 * (prepareSharedHome), so it never finds a login of its own (docs/codex-app-server.md §7).
 */
import type { Stats } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import { ensurePrivateDir } from "../platform/atomic-file.js";
import { classed, errorMessage, hasErrorCode } from "../platform/errors.js";
import { writeAuthFile, type AuthFile } from "./auth-file.js";

/** Entries that belong to one account's home and are never linked or moved. */
export const LOCAL_ENTRIES: ReadonlySet<string> = new Set([
  "auth.json",
  "packages",
  "app-server-daemon",
  "app-server-control",
]);
/** Directories codex creates on first use; made in the real home so they are shared at once. */
export const SHARED_DIRS = ["sessions", "shell_snapshots", "skills", "thread-writer-locks", "log"];
/** Files codex appends to; made (empty, 0600) in the real home for the same reason. */
export const SHARED_FILES = ["history.jsonl"];

/** The Codex home cannot be used: a configuration problem (CODEX_HOME, its mode). */
export class CodexHomeError extends classed("config") {}

/** Our account ids (`acc_…`) name the folder; anything else could escape homesDir. */
function checkAccountDirName(id: string): void {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(id)) {
    throw new CodexHomeError(`invalid account id "${id}" for a Codex home`);
  }
}

export function accountHomePath(homesDir: string, ourAccountId: string): string {
  checkAccountDirName(ourAccountId);
  return path.join(homesDir, ourAccountId);
}

async function readDirOrExplain(dir: string): Promise<string[]> {
  try {
    return await fs.readdir(dir);
  } catch (error) {
    if (hasErrorCode(error, "EACCES", "EPERM")) {
      throw new CodexHomeError(
        `cannot read the Codex home ${dir} (permission denied); fix its owner or mode (chmod 700)`,
        { cause: error },
      );
    }
    if (hasErrorCode(error, "ENOTDIR")) {
      throw new CodexHomeError(`the Codex home ${dir} is not a directory; fix CODEX_HOME`, {
        cause: error,
      });
    }
    throw new CodexHomeError(`cannot read the Codex home ${dir} (${errorMessage(error)})`, {
      cause: error,
    });
  }
}

async function lstatOrNull(p: string): Promise<Stats | null> {
  try {
    return await fs.lstat(p);
  } catch (error) {
    if (hasErrorCode(error, "ENOENT")) return null;
    throw error;
  }
}

async function ensureSharedEntries(realHome: string): Promise<void> {
  for (const dir of SHARED_DIRS) {
    try {
      await fs.mkdir(path.join(realHome, dir), { mode: 0o700 });
    } catch (error) {
      if (!hasErrorCode(error, "EEXIST")) throw error;
    }
  }
  for (const file of SHARED_FILES) {
    const handle = await fs.open(path.join(realHome, file), "a", 0o600);
    await handle.close();
  }
}

/** Moves a path across file systems too (the pool home and the Codex home may differ). */
async function movePath(from: string, to: string): Promise<void> {
  try {
    await fs.rename(from, to);
  } catch (error) {
    if (!hasErrorCode(error, "EXDEV")) throw error;
    await fs.cp(from, to, {
      recursive: true,
      force: true,
      preserveTimestamps: true,
      verbatimSymlinks: true,
    });
    await fs.rm(from, { recursive: true, force: true });
  }
}

export interface ReconcileReport {
  /** Entries (relative to the home) moved into the real home. */
  moved: string[];
  /** Entries that existed in both with the real one newer: the overlay copy was dropped. */
  dropped: string[];
}

/**
 * Moves whatever codex wrote into the overlay (instead of through a link) back into the real home:
 * a missing entry is moved; a file present in both keeps the newer copy; two directories merge.
 * Then the overlay entry becomes a link again.
 */
async function mergeInto(
  from: string,
  to: string,
  rel: string,
  report: ReconcileReport,
): Promise<void> {
  const src = await fs.lstat(from);
  const dst = await lstatOrNull(to);
  if (dst === null) {
    await movePath(from, to);
    report.moved.push(rel);
    return;
  }
  if (src.isDirectory() && dst.isDirectory()) {
    for (const name of await fs.readdir(from)) {
      await mergeInto(path.join(from, name), path.join(to, name), path.join(rel, name), report);
    }
    await fs.rm(from, { recursive: true, force: true });
    return;
  }
  if (src.mtimeMs > dst.mtimeMs && !dst.isDirectory()) {
    await fs.rm(to, { force: true });
    await movePath(from, to);
    report.moved.push(rel);
  } else {
    await fs.rm(from, { recursive: true, force: true });
    report.dropped.push(rel);
  }
}

export async function reconcileAccountHome(
  realHome: string,
  home: string,
): Promise<ReconcileReport> {
  const report: ReconcileReport = { moved: [], dropped: [] };
  let names: string[];
  try {
    names = await fs.readdir(home);
  } catch (error) {
    if (hasErrorCode(error, "ENOENT")) return report;
    throw error;
  }
  for (const name of names) {
    if (LOCAL_ENTRIES.has(name)) continue;
    const entry = path.join(home, name);
    const stat = await fs.lstat(entry);
    if (stat.isSymbolicLink()) continue;
    await mergeInto(entry, path.join(realHome, name), name, report);
    await fs.symlink(path.join(realHome, name), entry);
  }
  return report;
}

/** Makes every entry of the real home (but the local ones) a link in the overlay, and only that. */
async function linkEntries(realHome: string, home: string): Promise<void> {
  const real = new Set((await readDirOrExplain(realHome)).filter((n) => !LOCAL_ENTRIES.has(n)));
  for (const name of await fs.readdir(home)) {
    if (LOCAL_ENTRIES.has(name)) continue;
    const entry = path.join(home, name);
    const stat = await fs.lstat(entry);
    if (!stat.isSymbolicLink()) continue; // reconciled before we get here
    const target = await fs.readlink(entry);
    if (!real.has(name) || target !== path.join(realHome, name))
      await fs.rm(entry, { force: true });
    else real.delete(name);
  }
  for (const name of real) {
    try {
      await fs.symlink(path.join(realHome, name), path.join(home, name));
    } catch (error) {
      if (!hasErrorCode(error, "EEXIST")) throw error; // a concurrent launch of the same account
    }
  }
}

export interface PrepareHomeOptions {
  /** The user's real Codex home (CODEX_HOME). */
  realHome: string;
  /** <poolHome>/homes */
  homesDir: string;
  /** Our account id (acc_…). */
  ourAccountId: string;
  /** The auth.json to write (0600) into the overlay. */
  auth: AuthFile;
}

export interface PreparedHome {
  home: string;
  /** What an earlier run left in the overlay and was moved to the real home now. */
  recovered: ReconcileReport;
}

export async function prepareAccountHome(options: PrepareHomeOptions): Promise<PreparedHome> {
  const home = accountHomePath(options.homesDir, options.ourAccountId);
  const recovered = await prepareSharedHome(options.realHome, options.homesDir, home);
  await writeAuthFile(path.join(home, "auth.json"), options.auth);
  return { home, recovered };
}

/**
 * A home under `homesDir` whose every entry but the local ones (auth.json among them) is a link
 * into the real home. The account overlays add their auth.json; the app-server's home of live
 * mode stays without one (docs/codex-app-server.md §7).
 */
export async function prepareSharedHome(
  realHome: string,
  homesDir: string,
  home: string,
): Promise<ReconcileReport> {
  try {
    await ensurePrivateDir(realHome);
  } catch (error) {
    throw new CodexHomeError(
      `cannot use the Codex home ${realHome} (${errorMessage(error)}); fix CODEX_HOME`,
      {
        cause: error,
      },
    );
  }
  await readDirOrExplain(realHome); // an unreadable home is the user's to fix, say so up front
  try {
    await ensureSharedEntries(realHome);
  } catch (error) {
    throw new CodexHomeError(
      `cannot write into the Codex home ${realHome} (${errorMessage(error)}); fix its owner or mode`,
      { cause: error },
    );
  }
  await ensurePrivateDir(homesDir);
  await ensurePrivateDir(home);
  const recovered = await reconcileAccountHome(realHome, home);
  await linkEntries(realHome, home);
  return recovered;
}
