/**
 * Choosing the mode, end to end with the real codex against the simulator (docs/decisions.md
 * decision 11, src/supervisor/mode.ts): `exec` switches live where `exec --remote` was tested
 * (0.171) and relaunches elsewhere (0.169); `--mode relaunch` is obeyed; an untested codex version
 * and an app-server that does not start fall back to relaunching, said in one line.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";
import { CODEX_VERSION, LIVE_EXEC, LIVE_TUI } from "../helpers/codex-bin.js";
import { CODEX, fixture, haveCodex, type Fixture } from "./e2e-helpers.js";
import { refreshesByCodex, carrying } from "./live-helpers.js";
import { haveTmux, startPane, submitPrompt } from "./tmux.js";

const CONTINUE = "The previous turn was interrupted by a usage limit";

function turnsOf(fx: Fixture) {
  return fx.sim.requests().filter((r) => r.kind === "turn");
}

async function overlayHomes(fx: Fixture): Promise<string[]> {
  const names = await fs.readdir(path.join(fx.poolHome, "homes")).catch(() => [] as string[]);
  return names.filter((n) => n.startsWith("acc_"));
}

/** A codex that is the real one but for what `script` (sh) does first. */
async function wrappedCodex(fx: Fixture, script: string): Promise<string> {
  const file = path.join(fx.poolHome, "..", "codex-wrapper");
  await fs.writeFile(file, `#!/bin/sh\n${script}\nexec '${CODEX}' "$@"\n`, { mode: 0o755 });
  return file;
}

describe.skipIf(!haveCodex)("the switching mode (real codex, simulator)", () => {
  it(`exec on codex ${CODEX_VERSION}: A's limit moves the run to B ${LIVE_EXEC ? "live" : "by relaunching"}`, async () => {
    await using fx = await fixture([
      { accountId: "acct-A", email: "alice@example.com", turns: { limitAfter: 0 } },
      { accountId: "acct-B", email: "bob@example.com" },
    ]);
    const r = await runCli(["run", "--", "exec", "--skip-git-repo-check", "write the tests"], {
      env: fx.env,
      cwd: fx.project,
      timeoutMs: 90_000,
    });
    expect(r.code, r.stderr).toBe(0);
    const turns = turnsOf(fx);
    expect(turns.map((t) => [t.accountId, t.status])).toEqual([
      ["acct-A", 429],
      ["acct-B", 200],
    ]);
    expect(turns[1]!.userTexts?.[0]).toBe("write the tests");
    expect(turns[1]!.userTexts?.at(-1)).toMatch(new RegExp(`^${CONTINUE}`));
    expect(turns.every((t) => t.originator === "codex_exec")).toBe(true);
    expect(r.stdout).toContain("from account acct-B");
    expect(r.stderr).toMatch(
      /served by #2 bob@…, after #1 alice@… \(usage limit reached\); exit 0/,
    );
    expect(r.stderr).not.toContain("switching by relaunching");
    if (LIVE_EXEC) {
      // Two `exec --remote` clients of one app-server: no codex start-up banner, no overlay home
      // (no refresh token written anywhere), every refresh the pool's.
      expect(r.stderr.match(/thread id: /g)).toHaveLength(2);
      expect(r.stderr).not.toContain("OpenAI Codex v");
      expect(await overlayHomes(fx)).toEqual([]);
      expect(refreshesByCodex(fx.sim)).toEqual([]);
    } else {
      // Two codex processes, each in its account's overlay home.
      expect(r.stderr.match(/OpenAI Codex v/g)).toHaveLength(2);
      expect((await overlayHomes(fx)).sort()).toEqual([fx.ids["acct-A"], fx.ids["acct-B"]].sort());
    }
  });

  it("--mode relaunch relaunches; a mode that is not one is refused", async () => {
    await using fx = await fixture([
      { accountId: "acct-A", email: "alice@example.com", turns: { limitAfter: 0 } },
      { accountId: "acct-B", email: "bob@example.com" },
    ]);
    const r = await runCli(
      ["run", "--mode", "relaunch", "--", "exec", "--skip-git-repo-check", "write the tests"],
      { env: fx.env, cwd: fx.project, timeoutMs: 90_000 },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr.match(/OpenAI Codex v/g)).toHaveLength(2);
    expect((await overlayHomes(fx)).sort()).toEqual([fx.ids["acct-A"], fx.ids["acct-B"]].sort());
    const bad = await runCli(["run", "--mode", "sideways", "--", "exec", "x"], {
      env: fx.env,
      cwd: fx.project,
    });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("sideways");
    const setting = await runCli(["run", "--", "exec", "x"], {
      env: { ...fx.env, CODEX_POOL_MODE: "sideways" },
      cwd: fx.project,
    });
    expect(setting.code).not.toBe(0);
    expect(setting.stderr).toMatch(/CODEX_POOL_MODE.*sideways.*live, relaunch/);
  });

  it("an untested codex version relaunches, and says so", async () => {
    await using fx = await fixture([{ accountId: "acct-A", email: "alice@example.com" }]);
    const bin = await wrappedCodex(
      fx,
      `if [ "$1" = "--version" ]; then echo "codex-cli 0.170.0"; exit 0; fi`,
    );
    const r = await runCli(["run", "--", "exec", "--skip-git-repo-check", "hello"], {
      env: { ...fx.env, CODEX_POOL_CODEX_BIN: bin },
      cwd: fx.project,
      timeoutMs: 90_000,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(
      "codex-pool: switching by relaunching codex: live switching is not tested on codex 0.170.0\n",
    );
    expect(r.stdout).toContain("from account acct-A");
    expect(await overlayHomes(fx)).toEqual([fx.ids["acct-A"]]);
  });

  it.skipIf(!haveTmux || !LIVE_TUI)(
    "an app-server that does not start: the session relaunches, said before codex starts",
    async () => {
      await using fx = await fixture([{ accountId: "acct-A", email: "alice@example.com" }]);
      const bin = await wrappedCodex(
        fx,
        `for a in "$@"; do [ "$a" = app-server ] && { echo "no app-server here" >&2; exit 3; }; done`,
      );
      await using pane = await startPane(
        fx.poolHome,
        ["run"],
        { ...fx.env, CODEX_POOL_CODEX_BIN: bin },
        fx.project,
      );
      await pane.waitFor("Ask Codex");
      await submitPrompt(pane, "first task", carrying(fx.sim, "first task"));
      await pane.waitFor("mock reply #1 from account acct-A");
      expect(await overlayHomes(fx)).toEqual([fx.ids["acct-A"]]);
      await pane.type("\u0003");
      const text = await pane.waitFor(/ran on|exit|\$ $/);
      expect(await pane.exited()).toBe(0);
      expect(text).toMatch(
        /codex-pool: switching by relaunching codex: codex app-server exited before listening \(exit 3\): no app-server here/,
      );
    },
    120_000,
  );
});
