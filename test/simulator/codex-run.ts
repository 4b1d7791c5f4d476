/** Runs the real native codex binary against a simulator, in a throwaway Codex home. */
import { execFile } from "node:child_process";
import fs from "node:fs/promises";
import path from "node:path";
import { codexEnv, prepareCodexHome } from "../../src/simulator/codex-home.js";
import type { Simulator } from "../../src/simulator/index.js";
import { CODEX_BIN, haveCodexBin } from "../helpers/codex-bin.js";
import { tempDir, type TempDir } from "../helpers/tmp.js";

export const CODEX = CODEX_BIN;
export const haveCodex = haveCodexBin;

export interface CodexRun {
  code: number;
  stdout: string;
  stderr: string;
}

export function runCodex(
  args: string[],
  env: Record<string, string>,
  cwd: string,
): Promise<CodexRun> {
  return new Promise((resolve) => {
    const child = execFile(CODEX, args, { env, cwd, timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : -1;
      resolve({ code, stdout, stderr });
    });
    // exec reads extra input from a non-TTY stdin (docs/codex-cli.md §5.2): give it EOF.
    child.stdin?.end();
  });
}

export interface CodexSetup extends TempDir {
  codexHome: string;
  project: string;
  env: Record<string, string>;
  authFile: string;
}

/** A temp HOME with a Codex home prepared for `sim` (and an auth.json for `accountId` if given). */
export async function codexSetup(sim: Simulator, accountId?: string): Promise<CodexSetup> {
  const dir = await tempDir("cp-sim-codex-");
  const codexHome = dir.join("codex");
  const project = dir.join("project");
  await fs.mkdir(project, { recursive: true });
  await prepareCodexHome(codexHome, sim, { cwd: project, ...(accountId ? { accountId } : {}) });
  const env = codexEnv(sim, {
    PATH: process.env["PATH"] ?? "/usr/bin:/bin",
    HOME: dir.path,
    CODEX_HOME: codexHome,
    LANG: "C.UTF-8",
    NO_COLOR: "1",
  });
  return Object.assign(dir, {
    codexHome,
    project,
    env,
    authFile: path.join(codexHome, "auth.json"),
  });
}
