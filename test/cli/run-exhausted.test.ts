/** `run` of a pass-through command when every account is out: exit 75, and when the first resets. */
import fs from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";
import { authJson, fixtureTokens } from "../helpers/jwt.js";
import { tempHomes } from "../helpers/tmp.js";

describe("codex-pool run with every account out", () => {
  it("exits 75 and says when the first account resets, in the form status uses", async () => {
    await using homes = await tempHomes();
    const tokens = fixtureTokens({ accountId: "acct-A", email: "alice@example.com" });
    await fs.writeFile(
      path.join(homes.codexHome, "auth.json"),
      JSON.stringify(authJson(tokens, "acct-A", new Date().toISOString())),
    );
    expect((await runCli(["import"], { env: homes.env })).code).toBe(0);
    const file = path.join(homes.poolHome, "pool.json");
    const pool = JSON.parse(await fs.readFile(file, "utf8"));
    const resetsAt = new Date(Date.now() + 2 * 3600_000 + 13 * 60_000);
    pool.accounts[0].quota = {
      observedAt: new Date().toISOString(),
      source: "usage-api",
      plan: "plus",
      windows: [
        { kind: "5h", windowMinutes: 300, usedPercent: 100, resetsAt: resetsAt.toISOString() },
      ],
      limitReached: true,
    };
    await fs.writeFile(file, JSON.stringify(pool), { mode: 0o600 });
    const r = await runCli(["run", "--", "mcp", "list"], { env: homes.env });
    expect(r.code).toBe(75);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(
      /every account is out of quota; the first resets at .*\d\d:\d\d \(in 2h 1[23]m\)/,
    );
  });
});
