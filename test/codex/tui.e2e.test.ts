/** The real codex TUI through `codex-pool run`, driven under tmux (docs/codex-cli.md §6). */
import { execFile } from "node:child_process";
import fs from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { findNewRollout } from "../../src/codex/rollout-find.js";
import { CLI } from "../helpers/cli.js";
import { haveCodex, poolWorld, withSim } from "./e2e-helpers.js";

const exec = promisify(execFile);
const haveTmux = await exec("tmux", ["-V"]).then(
  () => true,
  () => false,
);

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

async function waitForPane(session: string, pattern: RegExp, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let pane = "";
  while (Date.now() < deadline) {
    pane = (await exec("tmux", ["capture-pane", "-t", session, "-p", "-J"])).stdout;
    if (pattern.test(pane)) return pane;
    // Polling the screen is the only signal tmux offers; bounded by the deadline.
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`pane never matched ${String(pattern)}:\n${pane}`);
}

describe.skipIf(!haveCodex || !haveTmux)("the codex TUI through codex-pool run", () => {
  it("answers a prompt from the simulator and its session file is found", async () => {
    await using sim = await withSim([{ accountId: "acct-A", email: "alice@example.com" }]);
    await using world = await poolWorld(sim, ["acct-A"]);
    const session = `cp-tui-${process.pid}-${Date.now()}`;
    const envFile = path.join(world.path, "env.sh");
    await fs.writeFile(
      envFile,
      Object.entries({ ...world.env, TERM: "xterm-256color" })
        .map(([k, v]) => `export ${k}=${shellQuote(v)}`)
        .join("\n") + "\n",
    );
    const since = Date.now();
    const command = `. ${shellQuote(envFile)}; cd ${shellQuote(world.project)}; ${shellQuote(process.execPath)} ${shellQuote(CLI)} run`;
    await exec("tmux", ["new-session", "-d", "-s", session, "-x", "160", "-y", "50", command]);
    try {
      await waitForPane(session, /Ask Codex to do anything/, 20_000);
      await exec("tmux", ["send-keys", "-t", session, "-l", "hello from tmux"]);
      await waitForPane(session, /› hello from tmux/, 5_000);
      // The TUI folds an Enter that follows fast typing into the paste burst; press it again
      // until the turn starts (bounded).
      let pane = "";
      for (let attempt = 0; attempt < 5 && pane === ""; attempt++) {
        await exec("tmux", ["send-keys", "-t", session, "Enter"]);
        pane = await waitForPane(session, /mock reply #1 from account acct-A/, 3_000).catch(
          () => "",
        );
      }
      expect(pane).toContain("mock reply #1 from account acct-A");
      const found = await findNewRollout({
        sessionsDir: path.join(world.codexHome, "sessions"),
        since,
        cwd: world.project,
        timeoutMs: 5000,
      });
      expect(found?.meta.originator).toBe("codex-tui");
      const turns = sim.requests().filter((r) => r.kind === "turn");
      expect(turns[0]).toMatchObject({ accountId: "acct-A", userTexts: ["hello from tmux"] });
    } finally {
      await exec("tmux", ["kill-session", "-t", session]).catch(() => undefined);
    }
  }, 60_000);
});
