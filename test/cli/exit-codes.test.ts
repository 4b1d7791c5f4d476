/**
 * The exit-code contract (src/platform/exit-codes.ts), class by class, from the BUILT CLI: each
 * class's exit code, and with `--json` (where the failing command takes it) exactly one JSON
 * object `{"error":{"code","message","hint"}}` on stderr and nothing on stdout.
 */
import { spawn } from "node:child_process";
import fs from "node:fs/promises";
import http from "node:http";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { jsonRequested } from "../../src/cli/declarations.js";
import { failureJson, failureOf } from "../../src/cli/failure.js";
import {
  CancelledError,
  CodexMissingError,
  CodexPoolError,
  ConfigError,
  LockTimeoutError,
  PoolExhaustedError,
} from "../../src/platform/errors.js";
import { withExitCodesDoc } from "../../src/platform/exit-codes-doc.js";
import { ERROR_CODES, EXIT_CLASSES, type ErrorCode } from "../../src/platform/exit-codes.js";
import { poolPaths } from "../../src/platform/paths.js";
import { FilePoolStore } from "../../src/pool/file-store.js";
import { addSimAccounts } from "../../src/simulator/seed-pool.js";
import { startSimulator } from "../../src/simulator/index.js";
import { CLI, ROOT, runCli, type CliResult } from "../helpers/cli.js";
import { authJson, fixtureTokens } from "../helpers/jwt.js";
import { tempHomes } from "../helpers/tmp.js";

type Homes = Awaited<ReturnType<typeof tempHomes>>;

/** Asserts a failure of class `code`; with `json`, the one-object stderr and the empty stdout. */
function expectFailure(r: CliResult, code: ErrorCode, json: boolean): void {
  expect(r.code, r.stderr).toBe(EXIT_CLASSES[code].exit);
  const lines = r.stderr.trimEnd().split("\n");
  if (!json) {
    // One line; commander adds its pointer to --help after a usage error.
    expect(lines).toHaveLength(code === "usage" ? 2 : 1);
    expect(lines[0]).toMatch(code === "usage" ? /^error: / : /^codex-pool: /);
    return;
  }
  expect(lines).toHaveLength(1);
  expect(r.stdout).toBe("");
  const parsed = JSON.parse(r.stderr) as { error: Record<string, unknown> };
  expect(Object.keys(parsed)).toEqual(["error"]);
  expect(Object.keys(parsed.error).sort()).toEqual(["code", "hint", "message"]);
  expect(parsed.error["code"]).toBe(code);
  expect(typeof parsed.error["message"]).toBe("string");
  expect(parsed.error["hint"]).not.toBe("");
}

async function importAccount(homes: Homes, accountId: string, email: string): Promise<void> {
  const tokens = fixtureTokens({ accountId, email });
  const file = homes.join(`${accountId}.json`);
  await fs.writeFile(file, JSON.stringify(authJson(tokens, accountId, new Date().toISOString())));
  const r = await runCli(["import", "--auth-file", file], { env: homes.env });
  expect(r.code, r.stderr).toBe(0);
}

const store = (homes: Homes): FilePoolStore =>
  new FilePoolStore({ paths: poolPaths(homes.poolHome), lockWaitMs: 5_000, lockStaleMs: 30_000 });

/** A loopback stand-in for the sign-in service that answers every request the same way. */
async function authServer(
  status: number,
  body: string,
): Promise<{ url: string } & AsyncDisposable> {
  const server = http.createServer((_req, res) => {
    res.writeHead(status, { "content-type": "application/json" }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    [Symbol.asyncDispose]: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe("the exit-code table", () => {
  it("is the README's table (run `npm run docs`) and is listed by --help", async () => {
    const readme = await fs.readFile(path.join(ROOT, "README.md"), "utf8");
    expect(withExitCodesDoc(readme)).toBe(readme);
    await using homes = await tempHomes();
    const help = await runCli(["--help"], { env: homes.env });
    for (const code of ERROR_CODES) {
      expect(help.stdout).toContain(`${String(EXIT_CLASSES[code].exit).padStart(3)}  [${code}]`);
      expect(readme).toContain(`| ${EXIT_CLASSES[code].exit} | \`${code}\` |`);
    }
  });

  it("keeps the contract's fixed codes", () => {
    expect(EXIT_CLASSES.usage.exit).toBe(2);
    expect(EXIT_CLASSES.pool_exhausted.exit).toBe(75);
    expect(EXIT_CLASSES.interrupted.exit).toBe(130);
    expect(EXIT_CLASSES.terminated.exit).toBe(143);
    expect(new Set(ERROR_CODES).size).toBe(ERROR_CODES.length);
  });

  it("reports every class as one JSON object carrying the class's exit code", () => {
    const cases: [unknown, ErrorCode][] = [
      [new ConfigError("bad setting"), "config"],
      [new LockTimeoutError("the pool is busy"), "busy"],
      [new PoolExhaustedError("every account is out", null), "pool_exhausted"],
      [new CancelledError(), "interrupted"],
      [new CodexMissingError("no codex", { hint: "install it" }), "codex_unavailable"],
      [new CodexPoolError("refused"), "failed"],
      [new TypeError("a bug"), "internal"],
    ];
    for (const code of ERROR_CODES) cases.push([new CodexPoolError(code, { code }), code]);
    for (const [error, code] of cases) {
      const failure = failureOf(error);
      expect(failure.code).toBe(code);
      expect(failure.exit).toBe(EXIT_CLASSES[code].exit);
      const line = failureJson(failure);
      expect(line).not.toContain("\n");
      expect(JSON.parse(line)).toEqual({
        error: { code, message: failure.message, hint: failure.hint },
      });
    }
    expect(failureOf(new CodexMissingError("no codex", { hint: "install it" })).hint).toBe(
      "install it",
    );
  });

  it("knows a --json run before commander parses it", () => {
    expect(jsonRequested(["list", "--json"])).toBe(true);
    expect(jsonRequested(["--pool-home", "/x", "ls", "--json"])).toBe(true);
    expect(jsonRequested(["status", "--refresh", "--json", "--bogus"])).toBe(true);
    expect(jsonRequested(["import", "--auth-file", "--json"])).toBe(false); // a file named --json
    expect(jsonRequested(["list", "--", "--json"])).toBe(false);
    expect(jsonRequested(["run", "--", "exec", "--json", "task"])).toBe(false); // codex's --json
    expect(jsonRequested(["login", "--json"])).toBe(false); // login takes no --json
    expect(jsonRequested(["--json"])).toBe(false);
  });
});

describe("each class from the built CLI", () => {
  it("usage: 2, also for an unknown option inside a command, and as JSON", async () => {
    await using homes = await tempHomes();
    expectFailure(await runCli(["frobnicate"], { env: homes.env }), "usage", false);
    const plain = await runCli(["status", "--bogus"], { env: homes.env });
    expect(plain.code).toBe(2);
    expect(plain.stderr).toContain("unknown option '--bogus'");
    const json = await runCli(["status", "--json", "--bogus"], { env: homes.env });
    expectFailure(json, "usage", true);
    expect(json.stderr).toContain("unknown option '--bogus'");
  });

  it("config: 78 for an invalid setting", async () => {
    await using homes = await tempHomes();
    const env = { ...homes.env, CODEX_POOL_ROTATE_AT_5H: "lots" };
    expectFailure(await runCli(["list"], { env }), "config", false);
    const r = await runCli(["list", "--json"], { env });
    expectFailure(r, "config", true);
    expect(r.stderr).toContain("CODEX_POOL_ROTATE_AT_5H");
  });

  it("pool_corrupt: 65, and the file is left as it was", async () => {
    await using homes = await tempHomes();
    await fs.mkdir(homes.poolHome, { recursive: true });
    const file = path.join(homes.poolHome, "pool.json");
    await fs.writeFile(file, "{ not json", { mode: 0o600 });
    expectFailure(await runCli(["status", "--json"], { env: homes.env }), "pool_corrupt", true);
    expectFailure(await runCli(["list"], { env: homes.env }), "pool_corrupt", false);
    expect(await fs.readFile(file, "utf8")).toBe("{ not json");
  });

  it("auth_file: 66 when the auth.json to import is missing", async () => {
    await using homes = await tempHomes();
    expectFailure(await runCli(["import", "--json"], { env: homes.env }), "auth_file", true);
  });

  it("account_not_found: 67", async () => {
    await using homes = await tempHomes();
    await importAccount(homes, "acct-A", "alice@example.com");
    expectFailure(
      await runCli(["switch", "9", "--json"], { env: homes.env }),
      "account_not_found",
      true,
    );
    expectFailure(
      await runCli(["remove", "9", "--yes"], { env: homes.env }),
      "account_not_found",
      false,
    );
  });

  it("needs_login: 77 for an account whose sign-in is dead, and for an empty pool", async () => {
    await using homes = await tempHomes();
    const empty = await runCli(["run", "--", "exec", "hello"], { env: homes.env });
    expectFailure(empty, "needs_login", false);
    await importAccount(homes, "acct-A", "alice@example.com");
    await store(homes).transact((pool) => {
      const since = new Date().toISOString();
      pool.accounts[0]!.state = { kind: "needs-login", reason: "refresh_token_reused", since };
    });
    const r = await runCli(["switch", "1", "--json"], { env: homes.env });
    expectFailure(r, "needs_login", true);
    expect(r.stderr).toContain("#1 alice@… needs a new sign-in");
  });

  it("busy: 75 while another process holds the pool", async () => {
    await using homes = await tempHomes();
    await importAccount(homes, "acct-A", "alice@example.com");
    const env = { ...homes.env, CODEX_POOL_LOCK_WAIT_MS: "300" };
    let r: CliResult | undefined;
    // This test process holds the pool's lock (alive, renewing it) while the CLI wants it.
    await store(homes).transact(async () => {
      r = await runCli(["switch", "1", "--json"], { env });
    });
    expectFailure(r!, "busy", true);
    expect(r!.stderr).toContain("busy");
  });

  it("pool_exhausted: 75 when every account is out of quota", async () => {
    const resetAt = Math.floor(Date.now() / 1000) + 3600;
    const accounts = [
      { accountId: "acct-A", email: "alice@example.com" },
      { accountId: "acct-B", email: "bob@example.com" },
    ].map((a) => ({ ...a, usage: { primaryUsedPercent: 100, primaryResetAt: resetAt } }));
    const sim = await startSimulator({ accounts });
    try {
      await using homes = await tempHomes();
      await addSimAccounts(store(homes), sim, accounts);
      const env = {
        ...homes.env,
        CODEX_POOL_AUTH_URL: sim.authUrl,
        CODEX_POOL_BACKEND_URL: sim.httpBackendUrl,
      };
      const r = await runCli(["switch", "--best", "--json"], { env });
      expectFailure(r, "pool_exhausted", true);
      expect(sim.strayRequests()).toEqual([]);
    } finally {
      await sim.close();
    }
  });

  it("network, bad_response and auth_failed: 75, 76 and 77 from the sign-in service", async () => {
    await using homes = await tempHomes();
    // tempHomes points the auth URL at a closed loopback port.
    expectFailure(await runCli(["login", "--device"], { env: homes.env }), "network", false);
    {
      await using server = await authServer(200, JSON.stringify({ nothing: "useful" }));
      const env = { ...homes.env, CODEX_POOL_AUTH_URL: server.url };
      expectFailure(await runCli(["login", "--device"], { env }), "bad_response", false);
    }
    {
      await using server = await authServer(404, "{}");
      const env = { ...homes.env, CODEX_POOL_AUTH_URL: server.url };
      expectFailure(await runCli(["login", "--device"], { env }), "auth_failed", false);
    }
  });

  it("codex_unavailable: 69 when the codex named does not exist", async () => {
    await using homes = await tempHomes();
    await importAccount(homes, "acct-A", "alice@example.com");
    const env = { ...homes.env, CODEX_POOL_CODEX_BIN: homes.join("no-codex-here") };
    const r = await runCli(["run", "--", "exec", "hello"], { env });
    expectFailure(r, "codex_unavailable", false);
    expect(r.stderr).toContain("npm install -g @openai/codex@0.171.0");
  });

  it("failed: 1 for a refusal no class covers", async () => {
    await using homes = await tempHomes();
    const dir = homes.join("bin");
    await fs.mkdir(dir);
    await fs.writeFile(path.join(dir, "codex"), "#!/bin/sh\necho real codex\n");
    const r = await runCli(["shim", "install", "--dir", dir], { env: homes.env });
    expectFailure(r, "failed", false);
  });

  it("internal: 70 for an error that is not ours (a bug), as JSON too", async () => {
    await using homes = await tempHomes();
    const preload = path.join(ROOT, "test/fixtures/simulated-bug.mjs");
    const env = { ...homes.env, NODE_OPTIONS: `--import ${preload}` };
    const plain = await runCli(["list"], { env });
    expect(plain.code).toBe(0); // the plain table does not go through the patched encoder
    const r = await runCli(["list", "--json"], { env });
    expectFailure(r, "internal", true);
    expect(r.stderr).toContain("simulated bug in list");
  });

  it.each([
    ["SIGINT", "interrupted"],
    ["SIGTERM", "terminated"],
  ] as const)(
    "%s while waiting: the process ends by the signal (shells see 128 + n)",
    async (signal, code) => {
      await using homes = await tempHomes();
      const child = spawn(process.execPath, [CLI, "login", "--no-browser"], {
        env: homes.env,
        stdio: ["pipe", "pipe", "pipe"],
      });
      let stderr = "";
      const prompted = new Promise<void>((resolve) => {
        child.stderr.setEncoding("utf8").on("data", (d: string) => {
          stderr += d;
          if (stderr.includes("paste")) resolve();
        });
      });
      const ended = new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
        child.on("close", (c, s) => resolve([c, s])),
      );
      await prompted;
      child.kill(signal);
      const [exit, bySignal] = await ended;
      // Either the default disposition (killed by it) or our own exit with 128 + n.
      if (exit === null) expect(bySignal).toBe(signal);
      else expect(exit).toBe(EXIT_CLASSES[code].exit);
      expect(128 + (signal === "SIGINT" ? 2 : 15)).toBe(EXIT_CLASSES[code].exit);
    },
  );
});
