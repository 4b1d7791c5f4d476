/**
 * `--json` on the commands that change one account (import, switch, remove): one JSON document on
 * stdout and nothing on stderr, so a script can read it; and every declared command is in the
 * README's command table.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { COMMAND_NAMES, COMMANDS, type CommandDecl } from "../../src/cli/declarations.js";
import { ROOT, runCli } from "../helpers/cli.js";
import { authJson, fixtureTokens } from "../helpers/jwt.js";
import { tempHomes } from "../helpers/tmp.js";

type Homes = Awaited<ReturnType<typeof tempHomes>>;

async function authFile(homes: Homes, accountId: string, email: string, at: string) {
  const file = homes.join(`${accountId}-${at}.json`);
  const tokens = fixtureTokens({ accountId, email });
  await fs.writeFile(file, JSON.stringify(authJson(tokens, accountId, at)));
  return file;
}

describe("--json results", () => {
  it("import, switch and remove answer in JSON, with nothing on stderr", async () => {
    await using homes = await tempHomes();
    const alice = await authFile(homes, "acct-A", "alice@example.com", "2026-01-01T00:00:00Z");
    const bob = await authFile(homes, "acct-B", "bob@example.com", "2026-01-01T00:00:00Z");
    let r = await runCli(["import", "--auth-file", alice, "--json"], { env: homes.env });
    expect(r).toMatchObject({ code: 0, stderr: "" });
    expect(JSON.parse(r.stdout)).toMatchObject({
      account: { index: 1, email: "alice@example.com", plan: "plus", default: true },
      created: true,
      tokensTaken: true,
    });
    r = await runCli(["import", "--auth-file", bob, "--json"], { env: homes.env });
    expect(JSON.parse(r.stdout)).toMatchObject({ account: { index: 2, default: false } });

    // codex rotated alice's tokens into auth.json: the switch adopts them, silently in JSON mode.
    const rotated = await authFile(homes, "acct-A", "alice@example.com", "2026-03-01T00:00:00Z");
    await fs.copyFile(rotated, path.join(homes.codexHome, "auth.json"));
    r = await runCli(["switch", "bob@example.com", "--json"], { env: homes.env });
    expect(r).toMatchObject({ code: 0, stderr: "" });
    expect(JSON.parse(r.stdout)).toEqual({
      account: {
        index: 2,
        id: expect.stringMatching(/^acc_/) as unknown,
        email: "bob@example.com",
      },
      authFile: path.join(homes.codexHome, "auth.json"),
      savedCopy: null,
    });
    const rotatedToken = (
      JSON.parse(await fs.readFile(rotated, "utf8")) as {
        tokens: { refresh_token: string };
      }
    ).tokens.refresh_token;
    const pool = JSON.parse(await fs.readFile(path.join(homes.poolHome, "pool.json"), "utf8")) as {
      accounts: { tokens: { refreshToken: string } }[];
    };
    expect(pool.accounts[0]!.tokens.refreshToken).toBe(rotatedToken);

    r = await runCli(["remove", "2", "--json"], { env: homes.env });
    expect(r.code).toBe(2); // --json never asks, so it needs --yes
    r = await runCli(["remove", "2", "--yes", "--json"], { env: homes.env });
    expect(r).toMatchObject({ code: 0, stderr: "" });
    expect(JSON.parse(r.stdout)).toMatchObject({
      removed: { index: 2, email: "bob@example.com" },
      alreadyRemoved: false,
      default: { index: 1, email: "alice@example.com" },
      liveSessions: [],
    });
  });
});

describe("README", () => {
  it("lists every command (and every --json) in its command table", async () => {
    const readme = await fs.readFile(path.join(ROOT, "README.md"), "utf8");
    const table = readme.slice(readme.indexOf("## Commands"), readme.indexOf("## Exit codes"));
    for (const name of COMMAND_NAMES) {
      const decl: CommandDecl = COMMANDS[name];
      if (decl.hidden === true) continue;
      const row = table.split("\n").find((line) => line.startsWith(`| \`${name}`));
      expect(row, name).toBeDefined();
      if ("json" in decl.options) expect(row, name).toContain("--json");
    }
  });
});
