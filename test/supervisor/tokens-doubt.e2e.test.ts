/**
 * Tokens are never spent twice (docs/supervisor.md, "tokens"), end to end against the simulator's
 * request log: A's access token is near its expiry, so a launch on A must refresh it first. When
 * the tokens an earlier codex left in A's overlay home cannot be read back (here: a damaged
 * auth.json), codex-pool refreshes nothing — zero /oauth/token requests — launches nothing, says
 * why in one line, and leaves the file as it was. The control run shows the same launch does
 * refresh when there is nothing to take back.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";
import { fixture, haveCodex } from "./e2e-helpers.js";

/**
 * Inside the pool's refresh skew (raised to an hour below), so a launch must refresh first, yet
 * outside codex's own 300 s window (docs/codex-cli.md §1d), so codex itself refreshes nothing.
 */
const NEAR_EXPIRY = { accessTokenTtlSeconds: 1000 } as const;
const SKEW = { CODEX_POOL_REFRESH_SKEW: "3600" };

describe.skipIf(!haveCodex)(
  "a launch after a failed token adoption (real codex, simulator)",
  () => {
    it("refreshes nothing, starts nothing, says why, and keeps the file", async () => {
      await using fx = await fixture([
        { accountId: "acct-A", email: "alice@example.com", ...NEAR_EXPIRY },
      ]);
      const home = path.join(fx.poolHome, "homes", fx.ids["acct-A"]!);
      await fs.mkdir(home, { recursive: true, mode: 0o700 });
      await fs.chmod(path.dirname(home), 0o700);
      const authFile = path.join(home, "auth.json");
      await fs.writeFile(authFile, '{"tokens": {"refresh_tok', { mode: 0o600 });

      const r = await runCli(["run", "--", "exec", "--skip-git-repo-check", "task"], {
        env: { ...fx.env, ...SKEW },
        cwd: fx.project,
        timeoutMs: 60_000,
      });
      expect(r.code, r.stderr).toBe(66);
      const lines = r.stderr.trimEnd().split("\n");
      expect(lines).toEqual([
        expect.stringMatching(
          /^codex-pool: could not take back the tokens codex left for #1 alice@… in .*auth\.json \(.*not valid JSON.*\); .*neither refreshes nor overwrites them/,
        ),
      ]);
      expect(fx.sim.requests().filter((q) => q.kind === "refresh")).toEqual([]);
      expect(fx.sim.requests().filter((q) => q.kind === "turn")).toEqual([]);
      expect(await fs.readFile(authFile, "utf8")).toBe('{"tokens": {"refresh_tok');
      expect((await fx.readPool()).sessions).toEqual([]);
    });

    it("the same holds for a one-shot codex command run through the pool", async () => {
      await using fx = await fixture([
        { accountId: "acct-A", email: "alice@example.com", ...NEAR_EXPIRY },
      ]);
      const home = path.join(fx.poolHome, "homes", fx.ids["acct-A"]!);
      await fs.mkdir(home, { recursive: true, mode: 0o700 });
      await fs.chmod(path.dirname(home), 0o700);
      await fs.writeFile(path.join(home, "auth.json"), "not json", { mode: 0o600 });
      const r = await runCli(["run", "--", "mcp", "list"], {
        env: { ...fx.env, ...SKEW },
        cwd: fx.project,
        timeoutMs: 60_000,
      });
      expect(r.code, r.stderr).toBe(66);
      expect(r.stderr.trimEnd().split("\n")).toEqual([
        expect.stringMatching(
          /^codex-pool: could not take back the tokens codex left for #1 alice@/,
        ),
      ]);
      expect(fx.sim.requests().filter((q) => q.kind === "refresh")).toEqual([]);
      expect(await fs.readFile(path.join(home, "auth.json"), "utf8")).toBe("not json");
    });

    it("control: with nothing to take back, the same launch refreshes and runs", async () => {
      await using fx = await fixture([
        { accountId: "acct-A", email: "alice@example.com", ...NEAR_EXPIRY },
      ]);
      const r = await runCli(["run", "--", "exec", "--skip-git-repo-check", "task"], {
        env: { ...fx.env, ...SKEW },
        cwd: fx.project,
        timeoutMs: 60_000,
      });
      expect(r.code, r.stderr).toBe(0);
      const refreshes = fx.sim.requests().filter((q) => q.kind === "refresh");
      expect(refreshes.length).toBeGreaterThan(0);
      expect(refreshes.every((q) => q.status === 200)).toBe(true);
      expect(fx.sim.requests().filter((q) => q.kind === "turn")).toHaveLength(1);
    });
  },
);
