/**
 * `codex exec --remote` (new in 0.171) through the relay (docs/codex-app-server.md §2, §8): each
 * exec is a client that attaches, runs its turn and leaves; a login while none is attached is
 * applied when the next one attaches, before it sees the server.
 */
import { spawn } from "node:child_process";
import fs from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { LIVE_EXEC } from "../helpers/codex-bin.js";
import { CODEX, haveCodex } from "../supervisor/e2e-helpers.js";
import { liveWorld, type LiveWorld } from "./live-world.js";

interface ExecResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function execRemote(world: LiveWorld, args: string[]): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(CODEX, ["exec", ...world.controller.attachArgs(), ...args], {
      env: world.clientEnv(),
      cwd: world.project,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

async function sessionMetaCwd(realHome: string, threadId: string): Promise<string | undefined> {
  const sessions = path.join(realHome, "sessions");
  for (const rel of await fs.readdir(sessions, { recursive: true })) {
    if (!rel.endsWith(`${threadId}.jsonl`)) continue;
    const first = (await fs.readFile(path.join(sessions, rel), "utf8")).split("\n")[0] ?? "";
    return (JSON.parse(first) as { payload?: { cwd?: string } }).payload?.cwd;
  }
  return undefined;
}

// `exec --remote` is new in 0.171 (docs/codex-app-server.md §2): on 0.169 exec relaunches, which
// test/supervisor/exec.e2e.test.ts covers, so these are skipped there.
describe.skipIf(!haveCodex || !LIVE_EXEC)("codex exec --remote through the relay", () => {
  it("runs exec turns on the supplied account, and the next exec on the account logged in meanwhile", async () => {
    const A = { accountId: "acct-A", email: "alice@example.com" };
    const B = { accountId: "acct-B", email: "bob@example.com" };
    await using world = await liveWorld([A, B], "acct-A");

    const first = await execRemote(world, ["first task"]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain("mock reply #1 from account acct-A");
    // In remote mode exec names the thread "thread id" (not "session id").
    const threadId = /thread id: ([0-9a-f-]{36})/.exec(first.stderr)?.[1];
    expect(threadId).toBeDefined();
    // exec --remote takes no -C: the thread works in the app-server's directory, the project.
    expect(await sessionMetaCwd(world.realHome, threadId!)).toBe(world.project);

    // No client is attached between two execs: the login waits for the next one.
    expect(await world.controller.login(world.supply("acct-B"))).toBe("deferred");
    const second = await execRemote(world, ["resume", threadId!, "second task"]);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toContain("mock reply #1 from account acct-B");

    const turns = world.turns();
    expect(turns.map((t) => [t.accountId, t.status, t.originator])).toEqual([
      ["acct-A", 200, "codex_exec"],
      ["acct-B", 200, "codex_exec"],
    ]);
    expect(turns[1]!.userTexts).toEqual(["first task", "second task"]);
    expect(
      world.events.filter((e) => e.type === "attached" || e.type === "accountApplied"),
    ).toEqual([
      { type: "accountApplied", chatgptAccountId: "acct-A", via: "attach" },
      { type: "attached", client: "codex_exec" },
      { type: "accountApplied", chatgptAccountId: "acct-B", via: "attach" },
      { type: "attached", client: "codex_exec" },
    ]);
    expect(world.sim.requests().filter((r) => r.kind === "refresh")).toEqual([]);
  }, 90_000);

  it("refuses options it cannot honour remotely (-C), with codex's own message", async () => {
    await using world = await liveWorld(
      [{ accountId: "acct-A", email: "a@example.com" }],
      "acct-A",
    );
    const result = await execRemote(world, ["-C", world.project, "hi"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      "--remote currently supports only prompt, resume by UUID, and output options",
    );
    expect(world.turns()).toEqual([]);
  }, 60_000);
});
