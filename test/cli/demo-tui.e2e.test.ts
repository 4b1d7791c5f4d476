/**
 * `codex-pool demo --tui` as a newcomer runs it in a real terminal (tmux): the codex TUI on alice
 * answers once, the second prompt hits her limit, and the session goes on under bob in the same
 * TUI, the continuation shown as an ordinary turn. What the demo's intro promises must be what
 * happens.
 */
import { describe, expect, it, onTestFailed } from "vitest";
import { tempHomes } from "../helpers/tmp.js";
import { eventually } from "../supervisor/e2e-helpers.js";
import { haveTmux, startPane, type Pane } from "../supervisor/tmux.js";

/** Types `text` and presses Enter (about once a second: the TUI takes a fast Enter as part of a paste) until `answer` shows. */
async function ask(pane: Pane, text: string, answer: string): Promise<string> {
  await pane.type(text);
  await pane.waitFor(text);
  let last = 0;
  return eventually(
    `the answer to "${text}"`,
    async () => {
      const screen = await pane.capture();
      if (screen.includes(answer)) return screen;
      if (Date.now() - last > 1000) {
        last = Date.now();
        await pane.enter();
      }
      return null;
    },
    60_000,
  );
}

describe.skipIf(!haveTmux)("codex-pool demo --tui", () => {
  it("moves the TUI's session live to bob after alice's limit, the task taken up by the continuation", async () => {
    await using homes = await tempHomes();
    await using pane = await startPane(homes.path, ["demo", "--tui"], homes.env, homes.path, {
      term: "xterm-256color",
    });
    onTestFailed(async () => {
      process.stderr.write(`pane:\n${await pane.capture()}\n`);
    });
    await pane.waitFor("Ask Codex", 60_000);
    await ask(pane, "first task", "from account acct-alice");
    const screen = await ask(pane, "second task", "from account acct-bob");
    // Alice's limit is shown by codex itself; the continuation went out as a turn of the same TUI.
    expect(screen).toMatch(/hit your usage limit/);
    expect(screen).toContain("The previous turn was interrupted by a usage limit");
    expect(screen.match(/>_ OpenAI Codex/g)).toHaveLength(1);
    await pane.waitFor("Ask Codex");
    // One Ctrl+C leaves an idle TUI. A second one sent at once may reach the terminal after
    // codex gave it back, and interrupt the demo's last steps (as it would a person's).
    await pane.key("C-c");
    expect(await pane.exited(60_000)).toBe(0);
    const end = await pane.capture();
    expect(end).toMatch(/moved live from #1 alice@\S+ .* to #2 bob@\S+ .*: usage limit reached/);
    expect(end).toMatch(/ran on #1 alice@… → #2 bob@…/);
    // codex --remote names a reconnect command for an app-server that is gone now: we say what works.
    expect(end).toMatch(/to go on with this session later: codex-pool run resume [0-9a-f-]{36}/);
    expect(end).toContain("That is codex-pool: the session kept its whole history");
    expect(end).not.toMatch(/unexpected error|\n\s+at /);
  }, 180_000);
});
