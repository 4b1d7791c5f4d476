/**
 * The real codex binary the end-to-end tests drive: the pinned dev dependency's native binary, or
 * the one `npm run test:codex -- <version>` installed elsewhere and named in CODEX_POOL_TEST_CODEX.
 * With the override set, a missing binary fails loudly instead of skipping every real-codex test
 * (a run that skips them all would otherwise "pass" on a version it never ran).
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { liveTested } from "../../src/codex/version.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

const override = process.env["CODEX_POOL_TEST_CODEX"];

/** Absolute path of the native codex binary under test. */
export const CODEX_BIN =
  override !== undefined && override !== ""
    ? path.resolve(override)
    : path.join(
        ROOT,
        "node_modules/@openai/codex-linux-x64/vendor/x86_64-unknown-linux-musl/bin/codex",
      );

/** True when the binary under test was chosen by CODEX_POOL_TEST_CODEX. */
export const CODEX_OVERRIDDEN = override !== undefined && override !== "";

function executable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export const haveCodexBin = executable(CODEX_BIN);
if (CODEX_OVERRIDDEN && !haveCodexBin) {
  throw new Error(`CODEX_POOL_TEST_CODEX=${override} is not an executable codex binary`);
}

/** "0.171.0": what the binary under test prints for --version, or null without one. */
export const CODEX_VERSION: string | null = haveCodexBin
  ? (/(\d+\.\d+\.\d+)/.exec(execFileSync(CODEX_BIN, ["--version"], { encoding: "utf8" }))?.[1] ??
    null)
  : null;

/**
 * Whether a supervised run switches live by default on the binary under test (the TUI, exec),
 * as src/supervisor/mode.ts decides it; tests of what either mode must do check the one that runs.
 */
export const LIVE_TUI = liveTested(CODEX_VERSION, "tui");
export const LIVE_EXEC = liveTested(CODEX_VERSION, "exec");

/** The environment entry that pins a supervised run to relaunch mode (its own tests). */
export const RELAUNCH_MODE = { CODEX_POOL_MODE: "relaunch" } as const;
