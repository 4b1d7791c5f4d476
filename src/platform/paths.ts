/**
 * Every path codex-pool touches is resolved here, from the settings (CODEX_POOL_HOME, CODEX_HOME)
 * and nowhere else. Nothing in this module reads process.env: the caller passes the environment.
 */
import os from "node:os";
import path from "node:path";

export type Env = Readonly<Record<string, string | undefined>>;

export function homeDir(env: Env): string {
  const home = env["HOME"] ?? env["USERPROFILE"];
  return home !== undefined && home !== "" ? home : os.homedir();
}

/** Expands a leading `~/` against the (injected) home directory and makes the path absolute. */
export function expandHome(p: string, env: Env): string {
  if (p === "~") return homeDir(env);
  if (p.startsWith("~/")) return path.join(homeDir(env), p.slice(2));
  return path.resolve(p);
}

export function defaultPoolHome(env: Env): string {
  return path.join(homeDir(env), ".codex-pool");
}

export function defaultCodexHome(env: Env): string {
  return path.join(homeDir(env), ".codex");
}

export interface PoolPaths {
  readonly poolHome: string;
  readonly poolFile: string;
  readonly poolBackup: string;
  readonly poolLock: string;
  readonly configFile: string;
  /** Cross-process refresh leases, one per account. */
  readonly leasesDir: string;
  /** Per-account overlay Codex homes (docs/decisions.md decision 2). */
  readonly homesDir: string;
  /** Simulator state and throwaway material (CA, demo homes). */
  readonly runDir: string;
}

export function poolPaths(poolHome: string): PoolPaths {
  return {
    poolHome,
    poolFile: path.join(poolHome, "pool.json"),
    poolBackup: path.join(poolHome, "pool.json.bak"),
    poolLock: path.join(poolHome, "pool.json.lock"),
    configFile: path.join(poolHome, "config.toml"),
    leasesDir: path.join(poolHome, "leases"),
    homesDir: path.join(poolHome, "homes"),
    runDir: path.join(poolHome, "run"),
  };
}

export interface CodexPaths {
  readonly codexHome: string;
  readonly authFile: string;
  readonly configFile: string;
  readonly sessionsDir: string;
}

export function codexPaths(codexHome: string): CodexPaths {
  return {
    codexHome,
    authFile: path.join(codexHome, "auth.json"),
    configFile: path.join(codexHome, "config.toml"),
    sessionsDir: path.join(codexHome, "sessions"),
  };
}

/** The system temp directory, for throwaway homes (demo, tests, bench). */
export function systemTempDir(): string {
  return os.tmpdir();
}
