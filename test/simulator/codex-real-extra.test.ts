/**
 * More proof against the real codex binary: an expired access token is refreshed at the simulator,
 * and the HTTP POST + SSE transport works: the fallback after a refused upgrade (zstd bodies) and a
 * custom provider with ChatGPT auth (docs/codex-cli.md §1b').
 */
import fs from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { codexSetup, haveCodex, runCodex } from "./codex-run.js";
import { ALICE, withSim } from "./helpers.js";

describe.skipIf(!haveCodex)("the real codex binary: refresh and SSE", () => {
  it("refreshes an expired access token at the simulator and rewrites auth.json", async () => {
    await using sim = await withSim([ALICE]);
    await using home = await codexSetup(sim);
    const t = sim.mintTokens("acct-A", { ttlSeconds: -60 });
    const authFile = home.authFile;
    await fs.writeFile(
      authFile,
      JSON.stringify({
        auth_mode: "chatgpt",
        OPENAI_API_KEY: null,
        tokens: {
          id_token: t.idToken,
          access_token: t.accessToken,
          refresh_token: t.refreshToken,
          account_id: "acct-A",
        },
        last_refresh: new Date().toISOString(),
      }),
      { mode: 0o600 },
    );
    const run = await runCodex(["exec", "--skip-git-repo-check", "say hi"], home.env, home.project);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain("mock reply #1 from account acct-A");
    expect(sim.refreshCount("acct-A")).toBe(1);
    const saved = JSON.parse(await fs.readFile(authFile, "utf8")) as {
      tokens: { refresh_token: string };
    };
    expect(saved.tokens.refresh_token).not.toBe(t.refreshToken);
    expect(saved.tokens.refresh_token).toMatch(/^rt-acct-A-g2-/);
    expect(sim.strayRequests()).toEqual([]);
  });

  it("falls back to HTTP POST + SSE with zstd bodies when the WebSocket is refused (426)", async () => {
    await using sim = await withSim([{ ...ALICE, turns: { websocket: false } }]);
    await using home = await codexSetup(sim);
    await fs.writeFile(home.authFile, JSON.stringify(sim.authJsonFor("acct-A")), { mode: 0o600 });
    // In ChatGPT mode codex zstd-compresses this POST (docs/codex-cli.md §0.4): the turn only succeeds
    // when the simulator decodes it.
    const run = await runCodex(["exec", "--skip-git-repo-check", "say hi"], home.env, home.project);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain("mock reply #1 from account acct-A");
    const turns = sim.requests().filter((r) => r.kind === "turn");
    expect(turns).toEqual([
      expect.objectContaining({ transport: "sse", status: 200, userTexts: ["say hi"] }),
    ]);
    expect(sim.strayRequests()).toEqual([]);
  });

  it("serves turns over HTTP POST + SSE to a custom provider with ChatGPT auth", async () => {
    await using sim = await withSim([ALICE]);
    await using home = await codexSetup(sim);
    await fs.writeFile(home.authFile, JSON.stringify(sim.authJsonFor("acct-A")), { mode: 0o600 });
    const config = await fs.readFile(path.join(home.codexHome, "config.toml"), "utf8");
    await fs.writeFile(
      path.join(home.codexHome, "config.toml"),
      `model_provider = "pool"\n${config}\n[model_providers.pool]\nname = "pool"\nbase_url = "${sim.httpBackendUrl}/codex"\nwire_api = "responses"\nrequires_openai_auth = true\n`,
    );
    const run = await runCodex(["exec", "--skip-git-repo-check", "say hi"], home.env, home.project);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain("mock reply #1 from account acct-A");
    const turn = sim.requests().find((r) => r.kind === "turn");
    expect(turn).toMatchObject({
      transport: "sse",
      accountId: "acct-A",
      status: 200,
      userTexts: ["say hi"],
    });
    expect(sim.strayRequests()).toEqual([]);
  });
});
