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
import { TESTED_CODEX, type CodexBinary } from "./binary.js";

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

/** Whether live mode was tested on `version` for this kind of session (binary.ts TESTED_CODEX). */
export function liveTested(version: string | null, kind: "tui" | "exec"): boolean {
  const tested = version === null ? undefined : TESTED_CODEX[version];
  return kind === "tui" ? tested?.liveTui === true : tested?.liveExec === true;
}
