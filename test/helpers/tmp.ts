/** Per-test temporary directories, removed afterwards (`await using`). */
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";

export interface TempDir extends AsyncDisposable {
  readonly path: string;
  join(...parts: string[]): string;
}

export async function tempDir(prefix = "cp-test-"): Promise<TempDir> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), prefix));
  return {
    path: dir,
    join: (...parts: string[]) => path.join(dir, ...parts),
    async [Symbol.asyncDispose]() {
      await fs.rm(dir, { recursive: true, force: true, maxRetries: 3 });
    },
  };
}

/** A throwaway HOME with a pool home and a Codex home inside, and the env that points at them. */
export async function tempHomes(): Promise<
  TempDir & { poolHome: string; codexHome: string; env: Record<string, string> }
> {
  const dir = await tempDir();
  const poolHome = dir.join("pool");
  const codexHome = dir.join("codex");
  await fs.mkdir(codexHome, { recursive: true });
  const env: Record<string, string> = {
    PATH: process.env["PATH"] ?? "",
    HOME: dir.path,
    CODEX_POOL_HOME: poolHome,
    CODEX_HOME: codexHome,
    NO_COLOR: "1",
    LANG: "C.UTF-8",
  };
  return Object.assign(dir, { poolHome, codexHome, env });
}
