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

/** Creates a directory (and parents) with mode 0700 when missing; an existing one is left as is. */
export async function ensurePrivateDir(dir: string): Promise<void> {
  try {
    await fs.mkdir(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  } catch (error) {
    if (!hasErrorCode(error, "EEXIST")) throw error;
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

/** Reads a file, or returns null when it does not exist. Any other error is the caller's. */
export async function readFileIfExists(file: string): Promise<string | null> {
  try {
    return await fs.readFile(file, "utf8");
  } catch (error) {
    if (hasErrorCode(error, "ENOENT")) return null;
    throw error;
  }
}
