/**
 * What users install: `npm pack` of this package, installed with `npm install -g` into a scratch
 * prefix, then `codex-pool --version`, `demo` (the pinned codex on PATH) and `doctor` run from
 * there, and `demo`/`run` without any codex. What it needs, honestly: `npm` and a built `dist/`
 * (npm test builds first), and this checkout's node_modules — its runtime dependencies are packed
 * from there and served by a loopback registry (test/helpers/local-registry.ts), so the install
 * reaches nothing outside the machine (npm's proxy points at a closed port for anything else).
 */
import { execFile } from "node:child_process";
import fs from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { ROOT } from "../helpers/cli.js";
import { startLocalRegistry } from "../helpers/local-registry.js";
import { tempDir, tempHomes } from "../helpers/tmp.js";

const run = promisify(execFile);

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

async function ran(file: string, args: string[], env: Record<string, string>): Promise<Ran> {
  try {
    const { stdout, stderr } = await run(file, args, { env, timeout: 150_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number | string; stdout?: string; stderr?: string };
    if (typeof e.code !== "number") throw error;
    return { code: e.code, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}

describe("the npm package", () => {
  it("packs small, installs into a scratch prefix, and runs --version, demo and doctor", async () => {
    await using work = await tempDir("cp-pack-");
    const { stdout: packed } = await run(
      "npm",
      ["pack", "--ignore-scripts", "--json", "--pack-destination", work.path],
      { cwd: ROOT },
    );
    const [pack] = JSON.parse(packed) as { filename: string; files: { path: string }[] }[];
    const files = pack!.files.map((f) => f.path);
    expect(files).toContain("dist/cli/main.js");
    expect(files).toContain("dist/cli/info-fast-path.bundle.js");
    expect(files.filter((f) => f.endsWith(".map") || f.startsWith("dist/bench/"))).toEqual([]);

    // The runtime tree patches no global: no Reflect metadata polyfill, no x509 stack.
    const { stdout: tree } = await run("npm", ["ls", "--omit=dev", "--all", "--parseable"], {
      cwd: ROOT,
    });
    expect(tree).not.toMatch(/reflect-metadata|@peculiar|tsyringe/);

    await using registry = await startLocalRegistry(ROOT, work.join("deps"));
    expect(registry.packages.map((p) => p.split("@")[0])).not.toContain("reflect-metadata");
    const prefix = work.join("prefix");
    const nodeDir = path.dirname(process.execPath);
    const npmEnv: Record<string, string> = {
      PATH: `${nodeDir}:${process.env["PATH"] ?? ""}`,
      HOME: work.path,
      npm_config_registry: registry.url,
      npm_config_cache: work.join("npm-cache"),
      npm_config_userconfig: work.join("npmrc"),
      npm_config_globalconfig: work.join("npmrc-global"),
      // Anything but the loopback registry goes to a closed port, so it fails instead of leaving.
      npm_config_proxy: "http://127.0.0.1:9",
      npm_config_https_proxy: "http://127.0.0.1:9",
      npm_config_noproxy: "127.0.0.1,localhost",
      npm_config_audit: "false",
      npm_config_fund: "false",
      npm_config_update_notifier: "false",
    };
    const install = await ran(
      "npm",
      ["install", "-g", "--prefix", prefix, work.join(pack!.filename)],
      npmEnv,
    );
    expect(install.code, install.stderr).toBe(0);
    // Only the optional peers npm looks up and then does without (ws's native add-ons).
    expect(registry.misses.filter((m) => !registry.optionalPeers.includes(m.slice(1)))).toEqual([]);
    const installed = path.join(prefix, "lib", "node_modules", "codex-pool");
    const deps = await fs.readdir(path.join(installed, "node_modules"));
    expect(deps).not.toContain("reflect-metadata");
    expect(deps).not.toContain("@peculiar");
    expect(deps).not.toContain("@openai"); // codex is the user's, not ours

    const bin = path.join(prefix, "bin", "codex-pool");
    await using homes = await tempHomes();
    // The pinned codex, alone in a folder on PATH, as a user's `npm install -g @openai/codex` has it.
    const codexDir = work.join("codex-bin");
    await fs.mkdir(codexDir);
    await fs.symlink(
      path.join(ROOT, "node_modules", "@openai", "codex", "bin", "codex.js"),
      path.join(codexDir, "codex"),
    );
    // PATH holds node and, when wanted, that codex: nothing else a machine may have installed.
    const nodeOnly = work.join("node-bin");
    await fs.mkdir(nodeOnly);
    await fs.symlink(process.execPath, path.join(nodeOnly, "node"));
    const withCodex = { ...homes.env, PATH: `${codexDir}:${nodeOnly}`, TERM: "dumb" };
    const noCodex = { ...homes.env, PATH: nodeOnly, TERM: "dumb" };

    const version = await ran(bin, ["--version"], withCodex);
    expect(version).toMatchObject({ code: 0, stdout: "0.1.0\n" });

    const demo = await ran(bin, ["demo"], withCodex);
    expect(demo.code, demo.stderr).toBe(0);
    expect(demo.stdout).toContain("mock reply #1 from account acct-bob");
    // The pinned codex (0.171) switches live: the demo shows that by default.
    expect(demo.stderr).toMatch(/session \S+ moved live from #1 alice@\S+ .* to #2 bob@/);
    expect(demo.stderr).not.toMatch(/unexpected error|\n\s+at /);

    // A fresh machine with codex: warnings (no pool yet), nothing broken.
    const doctor = await ran(bin, ["doctor", "--json"], withCodex);
    const report = JSON.parse(doctor.stdout) as { ok: boolean; findings: { id: string }[] };
    expect(doctor.code, doctor.stdout).toBe(0);
    expect(report.ok).toBe(true);
    expect(report.findings.map((f) => f.id)).toContain("codex-binary");
    const plainDoctor = await ran(bin, ["doctor"], withCodex);
    expect(plainDoctor.code, plainDoctor.stdout).toBe(0);
    expect(plainDoctor.stdout).toMatch(/^ok\s+codex 0\.171\.0 at /m);

    // No codex anywhere: one line saying exactly how to get one, and the codex_unavailable code.
    for (const args of [["demo"], ["run", "--", "exec", "hello"]]) {
      const r = await ran(bin, args, noCodex);
      expect(r.code, r.stderr).toBe(69);
      expect(r.stdout).toBe("");
      const lines = r.stderr.trimEnd().split("\n");
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain("`npm install -g @openai/codex@0.171.0`");
    }
  }, 240_000);
});
