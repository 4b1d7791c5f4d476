/**
 * Doctor check of the switching mode (docs/decisions.md decision 11, src/supervisor/mode.ts): which
 * way `run` would move a session between accounts with this codex and these settings, for the TUI
 * and for exec, and why. A codex version where live switching is not tested is a warning with the
 * version to install; everything else is said as it is.
 */
import { CODEX_INSTALL_COMMAND } from "../codex/binary.js";
import type { SettingSource } from "../platform/settings.js";
import type { Settings } from "../platform/settings-table.js";
import { chooseMode, type ModeChoice } from "../supervisor/mode.js";
import { ok, warn, type Finding } from "./finding.js";

/** `version`: what checkCodexBinary found (null: no runnable codex, said there already). */
export function checkSwitchMode(
  settings: Pick<Settings, "mode">,
  source: SettingSource,
  version: string | null,
): Finding[] {
  if (version === null) return [];
  const judge = (kind: "tui" | "exec"): ModeChoice =>
    chooseMode({ requested: settings.mode, source, version, kind, args: null });
  const tui = judge("tui");
  const exec = judge("exec");
  const how = (c: ModeChoice): string => (c.mode === "live" ? "live" : "by relaunching codex");
  const detail =
    "a command line `codex exec --remote` cannot take (e.g. -m, -s, -i) relaunches; so does a session whose app-server cannot start or refuses the login";
  if (tui.mode === exec.mode) {
    const why = tui.mode === "live" ? `tested on codex ${version}` : tui.reason;
    const title = `run switches sessions ${how(tui)} (the TUI and exec): ${why}`;
    if (tui.mode === "live" || settings.mode === "relaunch") {
      return [ok("switch-mode", title, tui.mode === "live" ? detail : undefined)];
    }
    return [
      warn(
        "switch-mode",
        title,
        `for live switching install a tested codex: ${CODEX_INSTALL_COMMAND}`,
      ),
    ];
  }
  const title = `run switches the TUI ${how(tui)} (${tui.reason}) and exec ${how(exec)} (${exec.reason})`;
  return [ok("switch-mode", title, detail)];
}
