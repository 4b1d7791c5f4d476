/**
 * Live mode when things go wrong (docs/decisions.md decision 11, docs/supervisor.md): codex-pool
 * killed outright takes its app-server and codex with it (the parent-death signal) and the session
 * resumes with plain `codex`; the app-server dying under a running TUI stops it cleanly and the
 * session goes on by relaunching; SIGTERM and SIGHUP end everything with 143 and 129 and leave
 * nothing behind. Real codex under tmux, against the simulator.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { describe, expect, it, onTestFailed } from "vitest";
import { LOCAL_ENTRIES } from "../../src/codex/overlay-home.js";
import { processAlive } from "../../src/platform/process-alive.js";
import { allGone } from "../helpers/processes.js";
import { writeFileAtomic } from "../../src/platform/atomic-file.js";
import { LIVE_TUI } from "../helpers/codex-bin.js";
import { CODEX, eventually, fixture, haveCodex, type Fixture } from "./e2e-helpers.js";
import { codexProcesses, processesMentioning, carrying } from "./live-helpers.js";
import { haveTmux, startCommand, startPane, submitPrompt, type Pane } from "./tmux.js";

function turnsOf(fx: Fixture) {
  return fx.sim.requests().filter((r) => r.kind === "turn");
}

function report(fx: Fixture, pane: Pane): void {
  onTestFailed(async () => {
    const log = fx.sim
      .requests()
      .map((r) => `  ${r.method} ${r.path} ${r.kind} ${r.accountId} ${r.status} ${r.error ?? ""}`);
    process.stderr.write(`simulator:\n${log.join("\n")}\npane:\n${await pane.capture()}\n`);
  });
}

/** A live session on A, one turn answered: its TUI, its app-server, and codex-pool's own pid. */
async function liveSession(fx: Fixture): Promise<{
  pane: Pane;
  tui: number;
  appServer: number;
  pool: number;
  sessionId: string;
}> {
  const pane = await startPane(fx.poolHome, ["run"], fx.env, fx.project);
  report(fx, pane);
  await pane.waitFor("Ask Codex");
  await submitPrompt(pane, "first task", carrying(fx.sim, "first task"));
  await pane.waitFor("mock reply #1");
  const { clients, appServers } = await codexProcesses(fx.poolHome);
  expect(clients).toHaveLength(1);
  expect(appServers).toHaveLength(1);
  // Both are codex-pool's children (the parent-death wrapper execs codex in place).
  expect(clients[0]!.ppid).toBe(appServers[0]!.ppid);
  const sessionId = await eventually("the session in the pool", async () => {
    const s = (await fx.readPool()).sessions[0];
    return s?.sessionId ?? null;
  });
  return {
    pane,
    tui: clients[0]!.pid,
    appServer: appServers[0]!.pid,
    pool: clients[0]!.ppid,
    sessionId,
  };
}

async function gone(pids: number[]): Promise<void> {
  expect(await allGone(pids), `pids ${pids.join(", ")} to be gone`).toBe(true);
}

/**
 * Nothing of a live session is left: no codex of the pool home, no entry, no lock; in the live
 * home (kept, so its sessions stay resumable) only links into the real home and codex's own files.
 */
async function nothingLeft(fx: Fixture): Promise<void> {
  const left = await codexProcesses(fx.poolHome);
  expect([...left.clients, ...left.appServers]).toEqual([]);
  const home = path.join(fx.poolHome, "homes", "live");
  for (const name of await fs.readdir(home)) {
    const stat = await fs.lstat(path.join(home, name));
    expect(stat.isSymbolicLink() || LOCAL_ENTRIES.has(name), name).toBe(true);
  }
  expect(await fs.readdir(home)).not.toContain("auth.json");
  expect((await fx.readPool()).sessions).toEqual([]);
  await expect(fs.access(path.join(fx.poolHome, "pool.json.lock"))).rejects.toThrow();
}

describe.skipIf(!haveCodex || !haveTmux || !LIVE_TUI)("live mode failures (tmux)", () => {
  it("SIGKILL of codex-pool: its app-server and TUI die with it; plain codex resumes the session", async () => {
    await using fx = await fixture([{ accountId: "acct-A", email: "alice@example.com" }]);
    const s = await liveSession(fx);
    await using pane = s.pane;
    process.kill(s.pool, "SIGKILL");
    // No orphan holding the terminal: the kernel's parent-death signal stopped both.
    await gone([s.tui, s.appServer]);
    await pane.exited();
    // The session is the user's: plain `codex resume <id>` (signed in on its own) takes it up,
    // with its whole history. `--no-daemon`: without it codex would start its background daemon
    // (docs/codex-cli.md §5.4), which outlives the test.
    const auth = JSON.stringify(fx.sim.authJsonFor("acct-A"), null, 2) + "\n";
    await writeFileAtomic(path.join(fx.codexHome, "auth.json"), auth, { mode: 0o600 });
    await using plain = await startCommand(
      fx.poolHome,
      [CODEX, "resume", "--no-daemon", s.sessionId],
      fx.env,
      fx.project,
      { exec: true, term: "xterm-256color" },
    );
    await plain.waitFor("mock reply #1 from account acct-A");
    await submitPrompt(plain, "second task", carrying(fx.sim, "second task"));
    await plain.waitFor("mock reply #2 from account acct-A");
    expect(turnsOf(fx).at(-1)?.userTexts).toEqual(["first task", "second task"]);
  }, 120_000);

  it("the app-server dies: the TUI is stopped cleanly and the session goes on by relaunching", async () => {
    await using fx = await fixture([{ accountId: "acct-A", email: "alice@example.com" }]);
    const s = await liveSession(fx);
    await using pane = s.pane;
    process.kill(s.appServer, "SIGKILL");
    await gone([s.tui]);
    // A relaunched codex on the same session (no --remote: an overlay home of A's).
    await eventually("the session relaunched", async () =>
      (await fx.readPool()).sessions.some((e) => e.holdsRefreshToken === true) ? true : null,
    );
    await pane.waitFor("Ask Codex");
    const relaunched = await processesMentioning(s.sessionId);
    expect(relaunched.some((p) => p.argv.includes("resume"))).toBe(true);
    await submitPrompt(pane, "second task", carrying(fx.sim, "second task"));
    await pane.waitFor("mock reply #2");
    expect(turnsOf(fx).at(-1)?.userTexts).toEqual(["first task", "second task"]);
    // Leaving codex: the fall-back is said once the terminal is ours again.
    await pane.type("\u0003");
    const text = await pane.waitFor(/switching by relaunching codex: codex app-server exited/);
    expect(text).not.toContain("Reconnecting");
    expect(await pane.exited()).toBe(0);
    await nothingLeft(fx);
  }, 120_000);

  for (const [signal, code] of [
    ["SIGTERM", 143],
    ["SIGHUP", 129],
  ] as const) {
    it(`${signal}: codex and its app-server end, exit ${code}, nothing left behind`, async () => {
      await using fx = await fixture([{ accountId: "acct-A", email: "alice@example.com" }]);
      const s = await liveSession(fx);
      await using pane = s.pane;
      process.kill(s.pool, signal);
      expect(await pane.exited()).toBe(code);
      expect(processAlive(s.tui)).toBe(false);
      expect(processAlive(s.appServer)).toBe(false);
      await nothingLeft(fx);
    }, 120_000);
  }
});
