/**
 * The continuation after a limit is verified (docs/supervisor.md, "verified continuation"), with
 * the real codex TUI under tmux against the simulator. Codex 0.169 sometimes starts a resumed TUI
 * without running its start-up prompt (seen about once in fifteen switches on a loaded 2-core
 * machine; keys typed during its start-up did not cause it). To make that happen on purpose, codex
 * runs through a wrapper that drops the start-up prompt of its first `resume` launch and execs
 * the real binary in place: B then starts idle, exactly as in the wild. (When the resent prompt is
 * dropped too, the user is told in one line: test/supervisor/runner.test.ts drives that in virtual
 * time, since nothing outside can see the line until codex exits.)
 */
import fs from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { CODEX, fixture, haveCodex, type Fixture } from "./e2e-helpers.js";
import { haveTmux, startPane, submitPrompt } from "./tmux.js";

const CONTINUE = "The previous turn was interrupted by a usage limit";

/** A codex that loses the start-up prompt of its first `drops` resume launches. */
async function droppingCodex(fx: Fixture, drops: number): Promise<string> {
  const script = path.join(fx.poolHome, "..", "dropping-codex.sh");
  const count = path.join(fx.poolHome, "..", "dropped");
  await fs.writeFile(
    script,
    `#!/bin/sh
# Drops the trailing "-- <prompt>" of a resume launch, ${drops} time(s), then runs codex as asked.
case " $* " in
  *" resume "*)
    n=$(cat '${count}' 2>/dev/null || echo 0)
    if [ "$n" -lt ${drops} ]; then
      echo $((n + 1)) > '${count}'
      total=$#; i=0
      for a do
        i=$((i + 1))
        if [ "$i" -le $((total - 2)) ]; then set -- "$@" "$a"; fi
      done
      shift "$total"
    fi
    ;;
esac
exec '${CODEX}' "$@"
`,
    { mode: 0o700 },
  );
  return script;
}

describe.skipIf(!haveCodex || !haveTmux)("verified continuation (tmux)", () => {
  it("B's first start-up drops the continuation: it is sent once more and runs on B", async () => {
    await using fx = await fixture([
      { accountId: "acct-A", email: "alice@example.com", turns: { limitAfter: 0 } },
      { accountId: "acct-B", email: "bob@example.com" },
    ]);
    const env = {
      ...fx.env,
      CODEX_POOL_CODEX_BIN: await droppingCodex(fx, 1),
      CODEX_POOL_CONTINUE_TIMEOUT: "5",
    };
    await using pane = await startPane(fx.poolHome, ["run"], env, fx.project);
    await pane.waitFor("Ask Codex");
    const turns = () => fx.sim.requests().filter((r) => r.kind === "turn");
    await submitPrompt(pane, "first task", () => turns().length);
    const onB = await fx.sim.waitForRequest(
      (r) => r.kind === "turn" && r.accountId === "acct-B" && r.status === 200,
      60_000,
    );
    expect(onB.userTexts?.[0]).toBe("first task");
    expect(onB.userTexts?.at(-1)).toMatch(new RegExp(`^${CONTINUE}`));
    await pane.waitFor("from account acct-B");
    // B was started twice (the first start-up dropped the prompt) and ran the continuation once.
    expect(await fs.readFile(path.join(fx.poolHome, "..", "dropped"), "utf8")).toBe("1\n");
    expect(turns().filter((r) => r.accountId === "acct-B")).toHaveLength(1);
    expect(
      turns()
        .filter((r) => r.accountId === "acct-A")
        .map((r) => r.status),
    ).toEqual([429]);
    const pool = await fx.readPool();
    expect(pool.sessions.map((s) => s.account)).toEqual([fx.ids["acct-B"]]);
  }, 120_000);
});
