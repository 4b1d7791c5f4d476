import fs from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { CLI, runCli } from "../helpers/cli.js";
import { tempHomes } from "../helpers/tmp.js";

describe("shell ergonomics", () => {
  it("prints --version and --help with every command", async () => {
    await using homes = await tempHomes();
    const version = await runCli(["--version"], { env: homes.env });
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    const help = await runCli(["--help"], { env: homes.env });
    expect(help.code).toBe(0);
    for (const cmd of [
      "login",
      "import",
      "list",
      "status",
      "switch",
      "remove",
      "run",
      "doctor",
      "demo",
    ]) {
      expect(help.stdout).toContain(cmd);
    }
    expect(help.stdout).toContain("CODEX_POOL_ROTATE_AT_5H");
    const sub = await runCli(["switch", "--help"], { env: homes.env });
    expect(sub.stdout).toContain("Examples:");
  });

  it("stays quiet when its reader goes away (`codex-pool --help | head -1`)", async () => {
    await using homes = await tempHomes();
    const { execFileSync } = await import("node:child_process");
    const err = homes.join("stderr.txt");
    // The reader takes one line and leaves; commander keeps writing into the closed pipe.
    execFileSync(
      "sh",
      ["-c", `"${process.execPath}" "${CLI}" --help 2>"${err}" | head -1 >/dev/null`],
      { env: homes.env, encoding: "utf8" },
    );
    const stderr = await fs.readFile(err, "utf8");
    expect(stderr).not.toMatch(/EPIPE|Error|\n\s+at /);
  });

  it("builds an executable bin, so `npx codex-pool` runs it directly", async () => {
    await expect(fs.access(CLI, fs.constants.X_OK)).resolves.toBeUndefined();
    const first = (await fs.readFile(CLI, "utf8")).split("\n")[0];
    expect(first).toBe("#!/usr/bin/env node");
  });

  it("exits 2 on bad usage with one line of help", async () => {
    await using homes = await tempHomes();
    const r = await runCli(["frobnicate"], { env: homes.env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown command");
  });

  it("prints completion scripts for bash, zsh and fish, and refuses others", async () => {
    await using homes = await tempHomes();
    for (const shell of ["bash", "zsh", "fish"]) {
      const r = await runCli(["completion", shell], { env: homes.env });
      expect(r.code).toBe(0);
      expect(r.stdout).toContain("status");
      expect(r.stdout).toMatch(shell === "fish" ? /-l refresh/ : /--refresh/);
      // the hidden simulator command is not offered
      expect(r.stdout).not.toMatch(/'simulator:| simulator\)|-a simulator /);
    }
    const bad = await runCli(["completion", "tcsh"], { env: homes.env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("Allowed choices are bash, zsh, fish");
  });

  it("installs a codex shim, never overwrites a real codex, and uninstalls only its own file", async () => {
    await using homes = await tempHomes();
    const dir = homes.join("bin");
    const install = await runCli(["shim", "install", "--dir", dir], { env: homes.env });
    expect(install.code).toBe(0);
    const script = await fs.readFile(`${dir}/codex`, "utf8");
    expect(script).toContain("run --");
    expect((await fs.stat(`${dir}/codex`)).mode & 0o111).not.toBe(0);
    expect((await runCli(["shim", "uninstall", "--dir", dir], { env: homes.env })).code).toBe(0);
    await expect(fs.stat(`${dir}/codex`)).rejects.toThrow();

    await fs.writeFile(`${dir}/codex`, "#!/bin/sh\necho real codex\n");
    const refused = await runCli(["shim", "install", "--dir", dir], { env: homes.env });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("not a codex-pool shim");
    expect(await fs.readFile(`${dir}/codex`, "utf8")).toContain("real codex");
    const keep = await runCli(["shim", "uninstall", "--dir", dir], { env: homes.env });
    expect(keep.code).toBe(1);
    expect(await fs.readFile(`${dir}/codex`, "utf8")).toContain("real codex");
  });
});
