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
    // Nothing a test runs may leave the machine: the real services' defaults are replaced by a
    // closed loopback port (tests that need a backend point these at the simulator).
    CODEX_POOL_AUTH_URL: "http://127.0.0.1:9",
    CODEX_POOL_BACKEND_URL: "http://127.0.0.1:9/backend-api",
    HTTPS_PROXY: "http://127.0.0.1:9",
    HTTP_PROXY: "http://127.0.0.1:9",
    NO_PROXY: "127.0.0.1,localhost",
  };
  return Object.assign(dir, { poolHome, codexHome, env });
}
