import { spawn } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimulator, type Simulator } from "../../src/simulator/index.js";
import { CLI, ROOT, runCli } from "../helpers/cli.js";
import { tempHomes } from "../helpers/tmp.js";
import { authorizeRedirect, makeStore } from "./support.js";

let sim: Simulator;

beforeAll(async () => {
  sim = await startSimulator({
    accounts: [
      { accountId: "acct-A", email: "alice@example.com", plan: "plus" },
      { accountId: "acct-B", email: "bob@example.com", plan: "pro" },
    ],
  });
});

afterAll(async () => {
  expect(sim.strayRequests()).toEqual([]);
  await sim.close();
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `login --no-browser`, answering the printed URL with `answer(redirectUrl)` on stdin. */
function pasteLogin(
  env: Record<string, string>,
  answer: (redirect: string) => string,
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, "login", "--no-browser"], {
      env,
      cwd: ROOT,
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    let answered = false;
    const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
      const match = /https?:\/\/\S+\/oauth\/authorize\S*/.exec(stderr);
      if (match && !answered && stderr.includes("paste it here")) {
        answered = true;
        authorizeRedirect(match[0], "alice@example.com").then(
          (redirect) => child.stdin.end(answer(redirect) + "\n"),
          (error: unknown) => reject(error as Error),
        );
      }
    });
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

function expectNoTokens(run: Run, tokens: string[]): void {
  for (const token of tokens) {
    expect(token.length).toBeGreaterThan(8);
    expect(run.stdout).not.toContain(token);
    expect(run.stderr).not.toContain(token);
  }
}

describe("codex-pool login (built CLI)", () => {
  it("--no-browser: prints the URL, takes the pasted redirect URL, adds then updates the account", async () => {
    await using homes = await tempHomes();
    const env = { ...homes.env, CODEX_POOL_AUTH_URL: sim.authUrl };
    const first = await pasteLogin(env, (redirect) => redirect);
    expect(first.stderr).toContain("redirect_uri=http%3A%2F%2Flocalhost%3A1455%2Fauth%2Fcallback");
    expect(first.stdout).toBe("Added #1 alice@example.com (plus).\n");
    expect(first.code).toBe(0);
    const firstTokens = (await makeStore(homes.poolHome).read()).accounts[0]!.tokens;
    expectNoTokens(first, [firstTokens.accessToken, firstTokens.refreshToken, firstTokens.idToken]);

    const again = await pasteLogin(env, (redirect) => redirect);
    expect(again.stdout).toBe("Updated #1 alice@example.com (plus).\n");
    expect(again.code).toBe(0);

    const pool = await makeStore(homes.poolHome).read();
    expect(pool.accounts).toHaveLength(1);
    const tokens = pool.accounts[0]!.tokens;
    expect(tokens.refreshToken).toMatch(/^rt-acct-A-/);
    expect(tokens.refreshToken).not.toBe(firstTokens.refreshToken);
    expectNoTokens(again, [tokens.accessToken, tokens.refreshToken, tokens.idToken]);
  });

  it("--no-browser refuses a pasted URL of another sign-in (wrong state) and stores nothing", async () => {
    await using homes = await tempHomes();
    const env = { ...homes.env, CODEX_POOL_AUTH_URL: sim.authUrl };
    const run = await pasteLogin(env, (redirect) => {
      const url = new URL(redirect);
      url.searchParams.set("state", "f".repeat(32));
      return url.toString();
    });
    expect(run.code).toBe(77);
    expect(run.stdout).toBe("");
    expect(run.stderr).toMatch(
      /codex-pool: the pasted URL belongs to a different sign-in \(state mismatch\)/,
    );
    expect((await makeStore(homes.poolHome).read()).accounts).toEqual([]);
  });

  it("--device prints the verification URL and code and adds the account", async () => {
    await using homes = await tempHomes();
    const env = { ...homes.env, CODEX_POOL_AUTH_URL: sim.authUrl };
    const run = await runCli(["login", "--device"], { env });
    expect(run.stderr).toContain(`${sim.authUrl}/codex/device`);
    expect(run.stderr).toMatch(/codex-pool: {3}[0-9A-F]{4}-[0-9A-F]{6}/);
    expect(run.stdout).toMatch(/^Added #1 (alice|bob)@example\.com \((plus|pro)\)\.\n$/);
    expect(run.code).toBe(0);
    const pool = await makeStore(homes.poolHome).read();
    const tokens = pool.accounts[0]!.tokens;
    expectNoTokens(run, [tokens.accessToken, tokens.refreshToken, tokens.idToken]);
  });

  it("an ended stdin in paste mode is a clear error", async () => {
    await using homes = await tempHomes();
    const run = await runCli(["login", "--no-browser"], {
      env: { ...homes.env, CODEX_POOL_AUTH_URL: sim.authUrl },
    });
    expect(run.code).toBe(77);
    expect(run.stderr).toMatch(
      /input ended before a redirect URL was pasted; run codex-pool login again/,
    );
  });
});
