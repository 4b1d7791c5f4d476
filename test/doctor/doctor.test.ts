/** `codex-pool doctor` finds each kind of breakage, with a remedy, through the built CLI. */
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";
import { authJson, fixtureTokens } from "../helpers/jwt.js";
import { tempHomes } from "../helpers/tmp.js";

type Homes = Awaited<ReturnType<typeof tempHomes>>;

interface Report {
  ok: boolean;
  findings: { id: string; status: string; title: string; remedy?: string }[];
}

async function importAccount(homes: Homes, accountId: string, email: string): Promise<void> {
  const tokens = fixtureTokens({ accountId, email });
  await fs.writeFile(
    path.join(homes.codexHome, "auth.json"),
    JSON.stringify(authJson(tokens, accountId, new Date().toISOString())),
  );
  const r = await runCli(["import"], { env: homes.env });
  expect(r.code, r.stderr).toBe(0);
}

async function doctor(
  homes: Homes,
  env: Record<string, string> = {},
): Promise<{ code: number | null; report: Report }> {
  // An unreachable backend keeps the clock check local and quick.
  const r = await runCli(["doctor", "--json"], {
    env: { ...homes.env, CODEX_POOL_BACKEND_URL: "http://127.0.0.1:9/backend-api", ...env },
  });
  return { code: r.code, report: JSON.parse(r.stdout) as Report };
}

function finding(report: Report, id: string, status: string) {
  return report.findings.find((f) => f.id === id && f.status === status);
}

describe("doctor", () => {
  it("passes on a healthy pool with the bundled codex", async () => {
    await using homes = await tempHomes();
    await importAccount(homes, "acct-A", "alice@example.com");
    const { code, report } = await doctor(homes);
    expect(report.findings.filter((f) => f.status === "fail")).toEqual([]);
    expect(code).toBe(0);
    expect(finding(report, "codex-binary", "ok")?.title).toContain("codex 0.171.0 at");
    expect(finding(report, "codex-auth", "ok")?.title).toContain("holds #1 alice@example.com");
  });

  it("finds a pool file with mode 0644", async () => {
    await using homes = await tempHomes();
    await importAccount(homes, "acct-A", "alice@example.com");
    await fs.chmod(path.join(homes.poolHome, "pool.json"), 0o644);
    const { code, report } = await doctor(homes);
    expect(code).toBe(1);
    expect(finding(report, "pool-file-mode", "fail")?.remedy).toMatch(/chmod 600 .*pool\.json/);
  });

  it("finds a stale lock left by a dead process", async () => {
    await using homes = await tempHomes();
    await importAccount(homes, "acct-A", "alice@example.com");
    // A pid that cannot be alive (above pid_max) on this host.
    const owner = {
      pid: 4_194_304 + 7,
      host: os.hostname(),
      token: "deadbeef",
      acquiredAt: new Date().toISOString(),
      purpose: "pool transaction",
    };
    await fs.writeFile(path.join(homes.poolHome, "pool.json.lock"), JSON.stringify(owner));
    const { code, report } = await doctor(homes);
    expect(code).toBe(1);
    expect(finding(report, "pool-lock", "fail")?.title).toContain("stale pool lock");
  });

  it("finds a missing codex binary", async () => {
    await using homes = await tempHomes();
    const { code, report } = await doctor(homes, {
      CODEX_POOL_CODEX_BIN: homes.join("no-such-codex"),
    });
    expect(code).toBe(1);
    expect(finding(report, "codex-binary", "fail")?.remedy).toContain(
      "npm install -g @openai/codex",
    );
  });

  it("knows every tested codex version and warns only outside the list", async () => {
    await using homes = await tempHomes();
    const fake = async (version: string): Promise<string> => {
      const file = homes.join(`codex-${version}`);
      await fs.writeFile(file, `#!/bin/sh\necho "codex-cli ${version}"\n`, { mode: 0o755 });
      return file;
    };
    for (const version of ["0.169.0", "0.171.0"]) {
      const { report } = await doctor(homes, { CODEX_POOL_CODEX_BIN: await fake(version) });
      expect(finding(report, "codex-binary", "ok")?.title).toContain(`codex ${version} at`);
      expect(report.findings.find((f) => f.id === "codex-version")).toBeUndefined();
    }
    const { report } = await doctor(homes, { CODEX_POOL_CODEX_BIN: await fake("0.170.0") });
    const w = finding(report, "codex-version", "warn");
    expect(w?.title).toContain("codex 0.170.0 at");
    expect(w?.title).toContain("tested with 0.169.0, 0.171.0");
    expect(w?.remedy).toContain("npm install -g @openai/codex@0.171.0");
  });

  it("says which way run would switch, and why", async () => {
    await using homes = await tempHomes();
    const fake = async (version: string): Promise<string> => {
      const file = homes.join(`codex-${version}`);
      await fs.writeFile(file, `#!/bin/sh\necho "codex-cli ${version}"\n`, { mode: 0o755 });
      return file;
    };
    const mode = async (env: Record<string, string>) =>
      (await doctor(homes, env)).report.findings.find((f) => f.id === "switch-mode");
    expect(await mode({ CODEX_POOL_CODEX_BIN: await fake("0.171.0") })).toMatchObject({
      status: "ok",
      title: "run switches sessions live (the TUI and exec): tested on codex 0.171.0",
    });
    expect((await mode({ CODEX_POOL_CODEX_BIN: await fake("0.169.0") }))?.title).toBe(
      "run switches the TUI live (live switching is tested for the TUI on codex 0.169.0) and exec by relaunching codex (codex 0.169.0 cannot switch exec live (no `exec --remote`))",
    );
    const untested = await mode({ CODEX_POOL_CODEX_BIN: await fake("0.170.0") });
    expect(untested).toMatchObject({
      status: "warn",
      title:
        "run switches sessions by relaunching codex (the TUI and exec): live switching is not tested on codex 0.170.0",
    });
    expect(untested?.remedy).toContain("npm install -g @openai/codex@0.171.0");
    expect(
      await mode({ CODEX_POOL_CODEX_BIN: await fake("0.171.0"), CODEX_POOL_MODE: "relaunch" }),
    ).toMatchObject({
      status: "ok",
      title:
        "run switches sessions by relaunching codex (the TUI and exec): relaunch mode was asked for",
    });
  });

  it("finds a keyring credential store in the Codex config", async () => {
    await using homes = await tempHomes();
    await fs.writeFile(
      path.join(homes.codexHome, "config.toml"),
      'cli_auth_credentials_store = "keyring"\n',
    );
    const { report } = await doctor(homes);
    expect(finding(report, "codex-keyring", "warn")?.remedy).toContain('"file"');
  });

  it("finds an account that needs login", async () => {
    await using homes = await tempHomes();
    await importAccount(homes, "acct-A", "alice@example.com");
    const file = path.join(homes.poolHome, "pool.json");
    const pool = JSON.parse(await fs.readFile(file, "utf8"));
    pool.accounts[0].state = {
      kind: "needs-login",
      reason: "refresh_token_reused",
      since: new Date().toISOString(),
    };
    await fs.writeFile(file, JSON.stringify(pool), { mode: 0o600 });
    const { code, report } = await doctor(homes);
    expect(code).toBe(1);
    const f = finding(report, "account-login", "fail");
    expect(f?.title).toContain("refresh_token_reused");
    expect(f?.remedy).toContain("codex-pool login");
  });

  it("reports API-key variables that would override the ChatGPT sign-in", async () => {
    await using homes = await tempHomes();
    const { report } = await doctor(homes, { CODEX_API_KEY: "sk-test" });
    expect(finding(report, "env-api-key", "warn")?.title).toContain("CODEX_API_KEY");
  });
});
