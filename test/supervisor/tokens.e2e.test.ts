/**
 * Refresh-token ownership across a switch (docs/decisions.md decision 3): A's access token nears its
 * expiry while the TUI runs on A, so codex refreshes it by itself (the simulator rotates A's
 * refresh token). After the switch to B the pool holds the rotated token, and a later
 * `status --refresh` refreshes A with it: no refresh token is ever spent twice.
 *
 * Codex 0.169 refreshes an access token that expires within 300 s (observed: a shorter lifetime
 * makes it refresh on every request). A lifetime a few seconds over that lets codex start with the
 * token as given and refresh it on the first turn after those seconds.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { tokenExpiry } from "../../src/auth/jwt.js";
import { runCli } from "../helpers/cli.js";
import { RELAUNCH_MODE } from "../helpers/codex-bin.js";
import { eventually, fixture, haveCodex } from "./e2e-helpers.js";
import { haveTmux, startPane, submitPrompt } from "./tmux.js";

const CODEX_REFRESH_WINDOW_MS = 300_000;
const TTL_SECONDS = 306;

async function accessTokenExpiry(authFile: string): Promise<number> {
  const raw = JSON.parse(await fs.readFile(authFile, "utf8")) as {
    tokens: { access_token: string };
  };
  const exp = tokenExpiry(raw.tokens.access_token);
  if (exp === null) throw new Error("the overlay access token has no exp");
  return exp.getTime();
}

// After A's 429 the session is resumed on B with the continuation prompt. Codex does not always
// run a resumed TUI's start-up prompt (docs/supervisor.md, "verified continuation"); the
// supervisor sees no turn start and sends it once more, so B's turn comes either way.
describe.skipIf(!haveCodex || !haveTmux)("token adoption across a switch (tmux)", () => {
  it(
    "codex rotates A's refresh token mid-session; the pool adopts it and refreshes with it",
    { timeout: 90_000 },
    async () => {
      await using fx = await fixture([
        {
          accountId: "acct-A",
          email: "alice@example.com",
          accessTokenTtlSeconds: TTL_SECONDS,
          turns: { limitAfter: 0 },
        },
        { accountId: "acct-B", email: "bob@example.com" },
      ]);
      const idA = fx.ids["acct-A"]!;
      // Codex holds A's refresh token only in relaunch mode (live mode never hands it one).
      await using pane = await startPane(
        fx.poolHome,
        ["run"],
        { ...fx.env, ...RELAUNCH_MODE },
        fx.project,
      );
      await pane.waitFor("Ask Codex");
      const readyAt = Date.now();

      // Wait (idle) until the token codex was given is inside codex's refresh window.
      const expiresAt = await accessTokenExpiry(path.join(fx.poolHome, "homes", idA, "auth.json"));
      const refreshDue = expiresAt - CODEX_REFRESH_WINDOW_MS + 500;
      await new Promise((r) => setTimeout(r, Math.max(0, refreshDue - Date.now())));
      const turns = () => fx.sim.requests().filter((r) => r.kind === "turn");
      await submitPrompt(pane, "first task", () => turns().length);

      // Codex refreshed A by itself before the turn, which then hit A's limit: the session moves to B.
      const firstTurn = turns()[0]!;
      expect(firstTurn).toMatchObject({ accountId: "acct-A" });
      const midSession = fx.sim
        .requests()
        .filter(
          (r) =>
            r.kind === "refresh" &&
            r.accountId === "acct-A" &&
            r.at >= readyAt &&
            r.at <= firstTurn.at,
        );
      expect(midSession.map((r) => r.status)).toEqual([200]);
      await fx.sim
        .waitForRequest((r) => r.kind === "turn" && r.accountId === "acct-B", 60_000)
        .catch(async (error: unknown) => {
          const log = fx.sim
            .requests()
            .map((r) => `${r.kind} ${r.accountId} ${r.status} ${r.error ?? ""}`);
          const poolNow = await fx.readPool();
          throw new Error(
            `${String(error)}\n--- pane ---\n${await pane.capture()}\n--- requests ---\n${log.join("\n")}\n--- sessions ---\n${JSON.stringify(poolNow.sessions)}`,
          );
        });
      // Every refresh rotates: the simulator's latest refresh token of A has this generation.
      const latestGeneration = () => 1 + fx.sim.refreshCount("acct-A");
      const adopted = await eventually("the pool to adopt A's rotated refresh token", async () => {
        const a = (await fx.readPool()).accounts.find((x) => x.id === idA);
        return a?.tokens.refreshToken.startsWith(`rt-acct-A-g${latestGeneration()}-`) ? a : null;
      });
      expect(adopted.state.kind).toBe("ok");

      // A later status --refresh (skew raised so A's token counts as due) refreshes A with it.
      const before = fx.sim.refreshCount("acct-A");
      const status = await runCli(["status", "--refresh", "--json"], {
        env: { ...fx.env, CODEX_POOL_REFRESH_SKEW: "3600" },
        cwd: fx.project,
      });
      expect(status.code, status.stderr).toBe(0);
      expect(fx.sim.refreshCount("acct-A")).toBe(before + 1);
      const refreshes = fx.sim.requests().filter((r) => r.kind === "refresh");
      expect(refreshes.filter((r) => r.error === "refresh_token_reused")).toEqual([]);
      expect(refreshes.every((r) => r.status === 200)).toBe(true);
      const after = (await fx.readPool()).accounts.find((x) => x.id === idA);
      expect(after?.state.kind).toBe("ok");
      expect(after?.tokens.refreshToken).toMatch(new RegExp(`^rt-acct-A-g${latestGeneration()}-`));
      expect(status.stdout).not.toContain("rt-acct-");
    },
  );
});
