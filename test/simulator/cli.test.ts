import { spawn } from "node:child_process";
import fs from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { CLI } from "../helpers/cli.js";
import { tempHomes } from "../helpers/tmp.js";

describe("codex-pool simulator (built CLI)", () => {
  it("prints its URLs as JSON, serves the scenario's accounts, and exits 0 on SIGTERM", async () => {
    await using homes = await tempHomes();
    const script = homes.join("scenario.json");
    await fs.writeFile(
      script,
      JSON.stringify({
        accounts: [{ accountId: "acct-Z", email: "zed@example.com", plan: "team" }],
      }),
    );
    const child = spawn(process.execPath, [CLI, "simulator", "--script", script], {
      env: homes.env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    child.stdout.setEncoding("utf8");
    const info = await new Promise<Record<string, unknown>>((resolve, reject) => {
      child.stdout.on("data", (d: string) => {
        stdout += d;
        try {
          resolve(JSON.parse(stdout) as Record<string, unknown>);
        } catch {
          // not complete yet
        }
      });
      child.once("exit", (code) => reject(new Error(`exited ${code}`)));
    });
    expect(info["accounts"]).toEqual(["acct-Z"]);
    expect(String(info["backendUrl"])).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/backend-api$/);
    expect(await fs.readFile(String(info["caFile"]), "utf8")).toContain("BEGIN CERTIFICATE");
    const authorize = new URL("/oauth/authorize", String(info["authUrl"]));
    authorize.searchParams.set("redirect_uri", "http://localhost:1455/auth/callback");
    authorize.searchParams.set("code_challenge", "abc");
    authorize.searchParams.set("login_hint", "zed@example.com");
    const res = await fetch(authorize, { redirect: "manual" });
    expect(res.status).toBe(302);
    const exited = new Promise<number | null>((resolve) =>
      child.once("exit", (code) => resolve(code)),
    );
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    await expect(fs.access(String(info["caFile"]))).rejects.toThrow();
  });

  it("refuses a malformed scenario with a usage error", async () => {
    await using homes = await tempHomes();
    const script = homes.join("bad.json");
    await fs.writeFile(script, JSON.stringify({ accounts: [{ accountId: "acct-Z" }] }));
    const child = spawn(process.execPath, [CLI, "simulator", "--script", script], {
      env: homes.env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const code = await new Promise<number | null>((resolve) =>
      child.once("exit", (c) => resolve(c)),
    );
    expect(code).toBe(2);
    expect(stderr).toMatch(/not a simulator scenario \(accounts\.0\.email/);
  });
});
