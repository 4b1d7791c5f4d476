/**
 * Crash-safe file writes: a private temp file in the same directory, fsync, rename over the target,
 * fsync the directory. A reader sees the old bytes or the new ones, never a torn file.
 */
import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { hasErrorCode } from "./errors.js";

export const PRIVATE_FILE_MODE = 0o600;
export const PRIVATE_DIR_MODE = 0o700;

/**
 * Creates a directory (and parents) with mode 0700 when missing. An existing one is left as is,
 * unless `tighten` is set: then our own directory loses any group/other bits (the pool home holds
 * tokens). A path that exists but is not a directory is an error, not silently accepted.
 */
export async function ensurePrivateDir(
  dir: string,
  options: { tighten?: boolean } = {},
): Promise<void> {
  try {
    await fs.mkdir(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  } catch (error) {
    if (!hasErrorCode(error, "EEXIST")) throw error;
  }
  const stat = await fs.stat(dir);
  if (!stat.isDirectory()) {
    throw Object.assign(new Error(`${dir} exists but is not a directory`), { code: "ENOTDIR" });
  }
  const ours = typeof process.getuid !== "function" || stat.uid === process.getuid();
  if (options.tighten === true && ours && (stat.mode & 0o077) !== 0) {
    await fs.chmod(dir, PRIVATE_DIR_MODE);
  }
}

async function fsyncDir(dir: string): Promise<void> {
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(dir, "r");
    await handle.sync();
  } catch (error) {
    // Some filesystems refuse fsync on a directory; the rename is still atomic there.
    if (!hasErrorCode(error, "EISDIR", "EINVAL", "EPERM", "EBADF")) throw error;
  } finally {
    await handle?.close();
  }
}

export function tempSibling(file: string, tag = "tmp"): string {
  const rand = randomBytes(6).toString("hex");
  return path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${rand}.${tag}`);
}

export async function writeFileAtomic(
  file: string,
  data: string | Uint8Array,
  options: { mode?: number } = {},
): Promise<void> {
  const mode = options.mode ?? PRIVATE_FILE_MODE;
  const tmp = tempSibling(file);
  const handle = await fs.open(tmp, "wx", mode);
  try {
    try {
      await handle.chmod(mode); // the umask may have narrowed or widened the create mode
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(tmp, file);
  } catch (error) {
    await fs.rm(tmp, { force: true });
    throw error;
  }
  await fsyncDir(path.dirname(file));
}

/**
 * Removes the temp siblings of `file` (see tempSibling) that `isOrphan` judges left behind by a
 * writer that died mid-write (SIGKILL, power loss). Call it while holding the lock that guards
 * `file`. Returns how many it removed.
 */
export async function removeOrphanTemps(
  file: string,
  isOrphan: (temp: { path: string; pid: number; tag: string }) => boolean | Promise<boolean>,
): Promise<number> {
  const dir = path.dirname(file);
  const prefix = `.${path.basename(file)}.`;
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch (error) {
    if (hasErrorCode(error, "ENOENT")) return 0;
    throw error;
  }
  let removed = 0;
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const match = /^(\d+)\.[0-9a-f]{12}\.([a-z]+)$/.exec(name.slice(prefix.length));
    if (!match?.[1] || !match[2]) continue;
    const temp = { path: path.join(dir, name), pid: Number(match[1]), tag: match[2] };
    if (!(await isOrphan(temp))) continue;
    await fs.rm(temp.path, { force: true });
    removed++;
  }
  return removed;
}

/** Reads a file, or returns null when it does not exist. Any other error is the caller's. */
export async function readFileIfExists(file: string): Promise<string | null> {
  try {
    return await fs.readFile(file, "utf8");
  } catch (error) {
    if (hasErrorCode(error, "ENOENT")) return null;
    throw error;
  }
}
