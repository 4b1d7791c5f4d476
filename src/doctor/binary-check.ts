/** Doctor check of the codex binary: found, runs, and its version against the one we test with. */
import { execFile } from "node:child_process";
import { resolveCodexBinary } from "../codex/binary.js";
import { errorMessage } from "../platform/errors.js";
import type { Env } from "../platform/paths.js";
import type { Settings } from "../platform/settings-table.js";
import { fail, ok, warn, type Finding } from "./finding.js";

/** The Codex CLI version whose behaviour codex-pool was checked against (CODEX_CLI.md). */
export const TESTED_CODEX_VERSION = "0.171.0";

function versionOf(file: string, env: Env): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, ["--version"], { timeout: 10_000, env: { ...env } }, (error, stdout) => {
      if (error) reject(new Error(error.message, { cause: error }));
      else resolve(stdout.trim());
    });
  });
}

export async function checkCodexBinary(env: Env, settings: Settings): Promise<Finding[]> {
  let binary;
  try {
    binary = resolveCodexBinary(env, settings);
  } catch (error) {
    return [
      fail(
        "codex-binary",
        "codex binary not found",
        "npm install -g @openai/codex, or set CODEX_POOL_CODEX_BIN",
        errorMessage(error),
      ),
    ];
  }
  let printed: string;
  try {
    printed = await versionOf(binary.path, { ...env, ...binary.env });
  } catch (error) {
    return [
      fail(
        "codex-binary",
        `codex at ${binary.path} does not run`,
        "reinstall it: npm install -g @openai/codex",
        errorMessage(error),
      ),
    ];
  }
  const version = /(\d+\.\d+\.\d+)/.exec(printed)?.[1] ?? "unknown";
  const where = `codex ${version} at ${binary.path} (${binary.source}, ${binary.kind})`;
  return [
    version === TESTED_CODEX_VERSION
      ? ok("codex-binary", where)
      : warn(
          "codex-version",
          `${where}; codex-pool was tested with ${TESTED_CODEX_VERSION}`,
          "it usually works; if sessions fail to switch, install the tested version: npm install -g @openai/codex@" +
            TESTED_CODEX_VERSION,
        ),
  ];
}
