/** The real codex TUI through `codex-pool run`, driven under tmux (docs/codex-cli.md §6). */
import path from "node:path";
import { describe, expect, it } from "vitest";
import { findNewRollout } from "../../src/codex/rollout-find.js";
import { haveTmux, startPane, submitPrompt } from "../supervisor/tmux.js";
import { haveCodex, poolWorld, withSim } from "./e2e-helpers.js";

describe.skipIf(!haveCodex || !haveTmux)("the codex TUI through codex-pool run", () => {
  it("answers a prompt from the simulator and its session file is found", async () => {
    await using sim = await withSim([{ accountId: "acct-A", email: "alice@example.com" }]);
    await using world = await poolWorld(sim, ["acct-A"]);
    const since = Date.now();
    await using pane = await startPane(world.path, ["run"], world.env, world.project, {
      term: "xterm-256color",
    });
    await pane.waitFor("Ask Codex to do anything");
    const turns = () => sim.requests().filter((r) => r.kind === "turn");
    await submitPrompt(pane, "hello from tmux", () => turns().length);
    await pane.waitFor("mock reply #1 from account acct-A");
    const found = await findNewRollout({
      sessionsDir: path.join(world.codexHome, "sessions"),
      since,
      cwd: world.project,
      timeoutMs: 5000,
    });
    expect(found?.meta.originator).toBe("codex-tui");
    expect(turns()[0]).toMatchObject({ accountId: "acct-A", userTexts: ["hello from tmux"] });
  }, 60_000);
});
