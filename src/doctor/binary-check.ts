/** Doctor check of the codex binary: found, runs, and its version against the one we test with. */
import {
  CODEX_INSTALL_COMMAND,
  CODEX_INSTALL_HINT,
  isTestedCodexVersion,
  resolveCodexBinary,
  TESTED_CODEX_VERSIONS,
} from "../codex/binary.js";
import { printedVersion, versionIn } from "../codex/version.js";
import { errorMessage } from "../platform/errors.js";
import type { Env } from "../platform/paths.js";
import type { Settings } from "../platform/settings-table.js";
import { fail, ok, warn, type Finding } from "./finding.js";

/** The findings, and the version found (null when codex is missing or does not run). */
export async function checkCodexBinary(
  env: Env,
  settings: Settings,
): Promise<{ findings: Finding[]; version: string | null }> {
  let binary;
  try {
    binary = resolveCodexBinary(env, settings);
  } catch (error) {
    return {
      version: null,
      findings: [
        fail("codex-binary", "codex binary not found", CODEX_INSTALL_HINT, errorMessage(error)),
      ],
    };
  }
  let printed: string;
  try {
    printed = await printedVersion(binary.path, { ...env, ...binary.env });
  } catch (error) {
    return {
      version: null,
      findings: [
        fail(
          "codex-binary",
          `codex at ${binary.path} does not run`,
          `reinstall it: ${CODEX_INSTALL_COMMAND}`,
          errorMessage(error),
        ),
      ],
    };
  }
  const found = versionIn(printed);
  const version = found ?? "unknown";
  const where = `codex ${version} at ${binary.path} (${binary.source}, ${binary.kind})`;
  return {
    version: found,
    findings: [
      isTestedCodexVersion(version)
        ? ok("codex-binary", where)
        : warn(
            "codex-version",
            `${where}; codex-pool was tested with ${TESTED_CODEX_VERSIONS.join(", ")}`,
            `it usually works; if sessions fail to switch, install a tested version: ${CODEX_INSTALL_COMMAND}`,
          ),
    ],
  };
}
