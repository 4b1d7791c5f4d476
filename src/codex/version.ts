/**
 * Which codex version a binary is, and what codex-pool may do with it.
 *
 * The version decides the switching mode (docs/decisions.md decision 11: live only where tested),
 * so `run` needs it on every session start. The npm installation says it for free: the binary we
 * launch is found through the @openai/codex package (src/codex/binary.ts), whose package.json
 * holds the version. Only a binary found elsewhere is asked (`codex --version`, ~20 ms native).
 */
import { execFile } from "node:child_process";
import fs from "node:fs/promises";
import path from "node:path";
import type { Env } from "../platform/paths.js";
import type { CodexBinary } from "./binary.js";

/** "0.171.0" out of `codex-cli 0.171.0` (or a package.json version); null if none is there. */
export function versionIn(text: string): string | null {
  return /(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?)/.exec(text)?.[1] ?? null;
}

/** What `<binary> --version` prints (trimmed); rejects when it does not run. */
export function printedVersion(file: string, env: Env, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, ["--version"], { timeout: timeoutMs, env: { ...env } }, (error, stdout) => {
      if (error) reject(new Error(error.message, { cause: error }));
      else resolve(stdout.trim());
    });
  });
}

async function packageVersion(root: string): Promise<string | null> {
  try {
    const pkg: unknown = JSON.parse(await fs.readFile(path.join(root, "package.json"), "utf8"));
    if (typeof pkg !== "object" || pkg === null) return null;
    const { name, version } = pkg as { name?: unknown; version?: unknown };
    return name === "@openai/codex" && typeof version === "string" ? versionIn(version) : null;
  } catch {
    return null;
  }
}

/** The binary's version, or null when it cannot be told (then nothing version-bound is used). */
export async function codexVersion(binary: CodexBinary, env: Env): Promise<string | null> {
  const root = binary.env["CODEX_MANAGED_PACKAGE_ROOT"];
  if (root !== undefined) {
    const fromPackage = await packageVersion(root);
    if (fromPackage !== null) return fromPackage;
  }
  try {
    return versionIn(await printedVersion(binary.path, { ...env, ...binary.env }));
  } catch {
    return null;
  }
}

/**
 * Where live mode (docs/decisions.md decision 11, docs/codex-app-server.md) was tested end to end,
 * per kind of session: `npm run test:codex -- <version>` runs the live tests on it. `exec --remote`
 * is new in 0.171 (0.169 has no such flag), so exec relaunches there.
 */
export const LIVE_TESTED: Readonly<
  Record<string, { readonly tui: boolean; readonly exec: boolean }>
> = {
  "0.169.0": { tui: true, exec: false },
  "0.171.0": { tui: true, exec: true },
};

/** Whether live mode was tested on `version` for this kind of session. */
export function liveTested(version: string | null, kind: "tui" | "exec"): boolean {
  return version !== null && LIVE_TESTED[version]?.[kind] === true;
}
