/**
 * Which way a supervised session moves between accounts (docs/decisions.md decision 11):
 * - live: codex attached to an app-server codex-pool starts and relays; a switch hands it the next
 *   account's tokens between turns (src/supervisor/live.ts);
 * - relaunch: stop codex at a turn boundary, `codex resume <id>` under the next account
 *   (src/supervisor/relaunch.ts).
 *
 * Live is the default where it was tested on the running codex version for that kind of session
 * (src/codex/binary.ts TESTED_CODEX) and the command line can run attached (`codex exec --remote`
 * refuses most exec options, src/codex/remote-args.ts); relaunch otherwise, and whenever asked for.
 * Falling back is said once (`announce`), except where relaunch is simply what that tested version
 * does (exec on 0.169, which has no `exec --remote`) and the user did not ask for live: doctor
 * explains that case. A session that starts live may still fall back later (the app-server refused
 * the login or died): src/supervisor/switcher.ts.
 */
import type { ClassifiedArgs } from "../codex/args.js";
import { isTestedCodexVersion } from "../codex/binary.js";
import { remoteRefusal } from "../codex/remote-args.js";
import { liveTested } from "../codex/version.js";
import type { SettingSource } from "../platform/settings.js";
import type { Mode } from "./machine.js";

export type SwitchMode = "live" | "relaunch";

export interface ModeChoice {
  readonly mode: SwitchMode;
  /** Why, in a few words (doctor, the fall-back line). */
  readonly reason: string;
  /** Live was wanted and is not used: tell the user once, before codex starts. */
  readonly announce: boolean;
}

export interface ModeInput {
  /** The `mode` setting (or `run --mode`). */
  readonly requested: SwitchMode;
  /** Where it came from: only a default is quiet about falling back on a tested version. */
  readonly source: SettingSource;
  /** The codex version (null: could not be told). */
  readonly version: string | null;
  readonly kind: Mode;
  /** The command line, when known (doctor judges the bare TUI and `exec PROMPT`). */
  readonly args: ClassifiedArgs | null;
}

function kindName(kind: Mode): string {
  return kind === "tui" ? "the TUI" : "exec";
}

export function chooseMode(input: ModeInput): ModeChoice {
  const { version, kind } = input;
  if (input.requested === "relaunch") {
    return { mode: "relaunch", reason: "relaunch mode was asked for", announce: false };
  }
  const asked = input.source !== "default";
  if (version === null) {
    return { mode: "relaunch", reason: "the codex version could not be told", announce: true };
  }
  if (!liveTested(version, kind)) {
    const tested = isTestedCodexVersion(version);
    const reason = tested
      ? `codex ${version} cannot switch ${kindName(kind)} live${kind === "exec" ? " (no `exec --remote`)" : ""}`
      : `live switching is not tested on codex ${version}`;
    return { mode: "relaunch", reason, announce: asked || !tested };
  }
  const refusal = input.args === null ? null : remoteRefusal(input.args);
  if (refusal !== null) {
    return {
      mode: "relaunch",
      reason: `this command line cannot run live: ${refusal}`,
      announce: true,
    };
  }
  return {
    mode: "live",
    reason: `live switching is tested for ${kindName(kind)} on codex ${version}`,
    announce: false,
  };
}

/** The one line that says a session relaunches instead of switching live. */
export function fallbackLine(reason: string): string {
  return `switching by relaunching codex: ${reason}`;
}
