import { describe, expect, it } from "vitest";
import { classifyArgs } from "../../src/codex/args.js";
import { chooseMode, fallbackLine } from "../../src/supervisor/mode.js";

const tui = classifyArgs([]);
const exec = classifyArgs(["exec", "--skip-git-repo-check", "--json", "go"]);

describe("chooseMode", () => {
  it("is live where it was tested, for each kind of session", () => {
    for (const [version, kind, args] of [
      ["0.171.0", "tui", tui],
      ["0.171.0", "exec", exec],
      ["0.169.0", "tui", tui],
    ] as const) {
      const c = chooseMode({ requested: "live", source: "default", version, kind, args });
      expect(c).toMatchObject({ mode: "live", announce: false });
      expect(c.reason).toContain(version);
    }
  });

  it("relaunches exec on 0.169 (no exec --remote), quietly unless live was asked for", () => {
    const base = { requested: "live", version: "0.169.0", kind: "exec", args: exec } as const;
    expect(chooseMode({ ...base, source: "default" })).toEqual({
      mode: "relaunch",
      reason: "codex 0.169.0 cannot switch exec live (no `exec --remote`)",
      announce: false,
    });
    expect(chooseMode({ ...base, source: "flag" }).announce).toBe(true);
    expect(chooseMode({ ...base, source: "config" }).announce).toBe(true);
  });

  it("relaunches an untested or unknown version, and says so", () => {
    const base = { requested: "live", source: "default", kind: "tui", args: tui } as const;
    expect(chooseMode({ ...base, version: "0.172.0" })).toEqual({
      mode: "relaunch",
      reason: "live switching is not tested on codex 0.172.0",
      announce: true,
    });
    expect(chooseMode({ ...base, version: "0.171.0-alpha.1" }).mode).toBe("relaunch");
    expect(chooseMode({ ...base, version: null })).toMatchObject({
      mode: "relaunch",
      announce: true,
    });
  });

  it("relaunches a command line codex cannot run attached, naming what it refuses", () => {
    const c = chooseMode({
      requested: "live",
      source: "default",
      version: "0.171.0",
      kind: "exec",
      args: classifyArgs(["exec", "-m", "o3", "go"]),
    });
    expect(c).toEqual({
      mode: "relaunch",
      reason: "this command line cannot run live: codex exec --remote does not take -m",
      announce: true,
    });
  });

  it("relaunches when asked, whatever the version", () => {
    const c = chooseMode({
      requested: "relaunch",
      source: "flag",
      version: "0.171.0",
      kind: "tui",
      args: tui,
    });
    expect(c).toEqual({ mode: "relaunch", reason: "relaunch mode was asked for", announce: false });
    expect(fallbackLine("why")).toBe("switching by relaunching codex: why");
  });
});
