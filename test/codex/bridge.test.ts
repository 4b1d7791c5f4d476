import { spawn as nodeSpawn } from "node:child_process";
import fs from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { resolveCodexBinary } from "../../src/codex/binary.js";
import { buildChildEnv, codexConfigOverrides } from "../../src/codex/child-env.js";
import { prepareAccountHome, reconcileAccountHome } from "../../src/codex/overlay-home.js";
import { outcomeOf, spawnCodex, started } from "../../src/codex/spawn.js";
import { findPdeathWrapper } from "../../src/supervisor/launch.js";
import { CodexMissingError } from "../../src/platform/errors.js";
import { defaultSettings } from "../../src/platform/settings.js";
import { tempDir } from "../helpers/tmp.js";

const AUTH = {
  auth_mode: "chatgpt",
  OPENAI_API_KEY: null,
  tokens: { access_token: "a", refresh_token: "r" },
};

describe("buildChildEnv and overrides", () => {
  it("drops our settings, secrets and API keys case-insensitively, and points codex at the backend", () => {
    const base = {
      PATH: "/bin",
      CODEX_HOME: "/real",
      codex_pool_home: "/pool",
      CODEX_POOL_DEBUG: "1",
      Codex_Api_Key: "sk-1",
      OPENAI_API_KEY: "sk-2",
      CODEX_ACCESS_TOKEN: "t",
      CODEX_CA_CERTIFICATE: "/ca.pem",
      NODE_EXTRA_CA_CERTS: "/ca2.pem",
      SSL_CERT_FILE: "/ca3.pem",
    };
    const settings = defaultSettings({
      authUrl: "http://127.0.0.1:9",
      backendUrl: "https://127.0.0.1:8/backend-api",
    });
    const env = buildChildEnv({
      base,
      settings,
      codexHome: "/overlay",
      sqliteHome: "/real",
      extra: { CODEX_MANAGED_BY_NPM: "1" },
    });
    expect(env).toEqual({
      PATH: "/bin",
      CODEX_HOME: "/overlay",
      CODEX_SQLITE_HOME: "/real",
      CODEX_CA_CERTIFICATE: "/ca.pem",
      NODE_EXTRA_CA_CERTS: "/ca2.pem",
      SSL_CERT_FILE: "/ca3.pem",
      CODEX_REFRESH_TOKEN_URL_OVERRIDE: "http://127.0.0.1:9/oauth/token",
      CODEX_REVOKE_TOKEN_URL_OVERRIDE: "http://127.0.0.1:9/oauth/revoke",
      CODEX_MANAGED_BY_NPM: "1",
    });
    expect(base.CODEX_HOME).toBe("/real"); // not mutated
    expect(codexConfigOverrides(settings)).toEqual([
      "-c", 'chatgpt_base_url="https://127.0.0.1:8/backend-api/"',
      "-c", 'openai_base_url="https://127.0.0.1:8/backend-api/codex"',
      "-c", 'cli_auth_credentials_store="file"',
    ]); // prettier-ignore
    const defaults = defaultSettings();
    expect(codexConfigOverrides(defaults)).toEqual(["-c", 'cli_auth_credentials_store="file"']);
    expect(buildChildEnv({ base: {}, settings: defaults, codexHome: "/o" })).toEqual({
      CODEX_HOME: "/o",
    });
  });
});

describe("resolveCodexBinary", () => {
  it("uses the configured binary, or says how to install codex in one line", async () => {
    await using dir = await tempDir();
    const missing = defaultSettings({ codexBin: dir.join("nope") });
    expect(() => resolveCodexBinary({}, missing)).toThrow(CodexMissingError);
    expect(() =>
      resolveCodexBinary({ PATH: "" }, defaultSettings(), { bundledFrom: null }),
    ).toThrow(/not found on PATH; install it with `npm install -g @openai\/codex@0\.171\.0`/);
  });

  it("skips a codex shim that runs codex-pool and finds the native binary behind the npm launcher", async () => {
    await using dir = await tempDir();
    await fs.mkdir(dir.join("shim"));
    await fs.writeFile(dir.join("shim", "codex"), '#!/bin/sh\nexec codex-pool run -- "$@"\n', {
      mode: 0o755,
    });
    const bin = dir.join("bin");
    await fs.mkdir(bin);
    await fs.symlink(
      path.resolve("node_modules/@openai/codex/bin/codex.js"),
      path.join(bin, "codex"),
    );
    const found = resolveCodexBinary({ PATH: `${dir.join("shim")}:${bin}` }, defaultSettings(), {
      bundledFrom: null,
    });
    expect(found.source).toBe("path");
    expect(found.kind).toBe("native");
    expect(found.path).toMatch(/vendor\/x86_64-unknown-linux-musl\/bin\/codex$/);
    expect(found.env["CODEX_MANAGED_BY_NPM"]).toBe("1");
    expect(found.env["CODEX_MANAGED_PACKAGE_ROOT"]).toMatch(/@openai\/codex$/);
    // Only the shim on PATH: falls through to our own dependency.
    const bundled = resolveCodexBinary({ PATH: dir.join("shim") }, defaultSettings());
    expect(bundled).toMatchObject({ source: "bundled", kind: "native" });
  });
});

describe("resolveCodexBinary: where the platform package is", () => {
  /** A fake npm tree: node_modules/@openai/codex (launcher) and platform packages placed by `at`. */
  async function tree(
    root: string,
    at: Array<"nested" | "hoisted" | "launcher-vendor">,
  ): Promise<{ launcher: string; natives: Record<string, string> }> {
    const nm = path.join(root, "node_modules");
    const pkg = path.join(nm, "@openai", "codex");
    await fs.mkdir(path.join(pkg, "bin"), { recursive: true });
    await fs.writeFile(path.join(pkg, "package.json"), '{"name":"@openai/codex"}');
    const launcher = path.join(pkg, "bin", "codex.js");
    await fs.writeFile(launcher, "#!/usr/bin/env node\n", { mode: 0o755 });
    const triple = "x86_64-unknown-linux-musl";
    const dirs = {
      nested: path.join(pkg, "node_modules", "@openai", "codex-linux-x64"),
      hoisted: path.join(nm, "@openai", "codex-linux-x64"),
      "launcher-vendor": pkg,
    };
    const natives: Record<string, string> = {};
    for (const where of at) {
      const dir = dirs[where];
      const native = path.join(dir, "vendor", triple, "bin", "codex");
      await fs.mkdir(path.dirname(native), { recursive: true });
      if (where !== "launcher-vendor") {
        await fs.writeFile(path.join(dir, "package.json"), '{"name":"@openai/codex-linux-x64"}');
      }
      await fs.writeFile(native, "#!/bin/sh\n", { mode: 0o755 });
      natives[where] = native;
    }
    return { launcher, natives };
  }

  const resolveFrom = (launcher: string) =>
    resolveCodexBinary({}, defaultSettings({ codexBin: launcher }), {
      platform: "linux",
      arch: "x64",
      bundledFrom: null,
    });

  it("finds it inside the launcher's package first, as require.resolve would", async () => {
    await using dir = await tempDir();
    const { launcher, natives } = await tree(dir.path, ["nested", "hoisted"]);
    expect(resolveFrom(launcher)).toMatchObject({ path: natives["nested"], kind: "native" });
  });

  it("finds it beside the launcher's package (hoisted)", async () => {
    await using dir = await tempDir();
    const { launcher, natives } = await tree(dir.path, ["hoisted"]);
    const found = resolveFrom(launcher);
    expect(found).toMatchObject({ path: natives["hoisted"], kind: "native" });
    expect(found.env["CODEX_MANAGED_PACKAGE_ROOT"]).toBe(
      path.join(dir.path, "node_modules", "@openai", "codex"),
    );
  });

  it("falls back to the launcher's own vendor folder, then to the launcher itself", async () => {
    await using dir = await tempDir();
    const { launcher, natives } = await tree(dir.path, ["launcher-vendor"]);
    expect(resolveFrom(launcher)).toMatchObject({ path: natives["launcher-vendor"] });
    await fs.rm(natives["launcher-vendor"] ?? "");
    expect(resolveFrom(launcher)).toMatchObject({ path: launcher, kind: "launcher" });
  });
});

describe("spawnCodex", () => {
  it("maps exit codes and signal deaths, and a missing binary to CodexMissingError", async () => {
    expect(outcomeOf(3, null).code128).toBe(3);
    expect(outcomeOf(null, "SIGTERM").code128).toBe(143);
    expect(outcomeOf(null, "SIGINT").code128).toBe(130);
    const ok = spawnCodex({
      binary: { path: "/bin/sh" },
      args: ["-c", "exit 7"],
      env: {},
      stdio: "ignore",
    });
    expect((await ok.exited).code128).toBe(7);
    const killed = spawnCodex({
      binary: { path: "/bin/sh" },
      args: ["-c", "kill -HUP $$"],
      env: {},
      stdio: "ignore",
    });
    expect((await killed.exited).code128).toBe(129);
    const gone = spawnCodex({
      binary: { path: "/nonexistent/codex" },
      args: [],
      env: {},
      stdio: "ignore",
    });
    await expect(gone.exited).rejects.toThrow(
      /cannot start codex at \/nonexistent\/codex: it does not exist/,
    );
    await expect(started(gone)).rejects.toBeInstanceOf(CodexMissingError);
  });

  it.skipIf(findPdeathWrapper() === null)(
    "runs codex through the parent-death wrapper when given one, its exit code passed through",
    async () => {
      const wrapper = findPdeathWrapper()!;
      const seen: string[][] = [];
      const spawned = spawnCodex({
        binary: { path: "/bin/sh" },
        args: ["-c", "exit 5"],
        pdeathWrapper: wrapper,
        env: {},
        stdio: "ignore",
        spawn: (command, args, options) => {
          seen.push([command, ...args]);
          return nodeSpawn(command, [...args], options);
        },
      });
      await started(spawned);
      expect(seen).toEqual([[wrapper, "--pdeathsig", "SIGTERM", "--", "/bin/sh", "-c", "exit 5"]]);
      expect((await spawned.exited).code128).toBe(5);
    },
  );
});

describe("overlay homes", () => {
  it("links every real entry, keeps auth.json private, and pre-creates shared folders in the real home", async () => {
    await using dir = await tempDir();
    const real = dir.join("real");
    await fs.mkdir(path.join(real, "sessions", "2026"), { recursive: true });
    await fs.writeFile(path.join(real, "config.toml"), 'model = "x"\n');
    await fs.writeFile(path.join(real, "auth.json"), "{}");
    const { home } = await prepareAccountHome({
      realHome: real,
      homesDir: dir.join("homes"),
      ourAccountId: "acc_aaaaaa",
      auth: AUTH,
    });
    expect(await fs.readlink(path.join(home, "config.toml"))).toBe(path.join(real, "config.toml"));
    expect(await fs.readlink(path.join(home, "sessions"))).toBe(path.join(real, "sessions"));
    expect(await fs.readlink(path.join(home, "history.jsonl"))).toBe(
      path.join(real, "history.jsonl"),
    );
    expect((await fs.lstat(path.join(home, "auth.json"))).isSymbolicLink()).toBe(false);
    expect((await fs.stat(path.join(home, "auth.json"))).mode & 0o777).toBe(0o600);
    expect(await fs.readFile(path.join(real, "auth.json"), "utf8")).toBe("{}"); // the user's stays
    for (const d of ["shell_snapshots", "thread-writer-locks", "skills", "log"]) {
      expect((await fs.stat(path.join(real, d))).isDirectory()).toBe(true);
    }
  });

  it("moves what codex wrote into the overlay back to the real home, including a replaced config link", async () => {
    await using dir = await tempDir();
    const real = dir.join("real");
    await fs.mkdir(real);
    await fs.writeFile(path.join(real, "config.toml"), "old\n");
    const { home } = await prepareAccountHome({
      realHome: real,
      homesDir: dir.join("homes"),
      ourAccountId: "acc_bbbbbb",
      auth: AUTH,
    });
    // What a write-to-temp-and-rename editor does to the link, and new entries codex creates.
    await fs.rm(path.join(home, "config.toml"));
    await fs.writeFile(path.join(home, "config.toml"), "new\n");
    await fs.writeFile(path.join(home, "installation_id"), "abc");
    await fs.rm(path.join(home, "sessions"));
    await fs.mkdir(path.join(home, "sessions", "2026", "11"), { recursive: true });
    await fs.writeFile(path.join(home, "sessions", "2026", "11", "r.jsonl"), "{}\n");
    const report = await reconcileAccountHome(real, home);
    expect(report.moved.sort()).toEqual(
      ["config.toml", "installation_id", path.join("sessions", "2026")].sort(),
    );
    expect(await fs.readFile(path.join(real, "config.toml"), "utf8")).toBe("new\n");
    expect(await fs.readFile(path.join(real, "installation_id"), "utf8")).toBe("abc");
    expect(await fs.readFile(path.join(real, "sessions", "2026", "11", "r.jsonl"), "utf8")).toBe(
      "{}\n",
    );
    for (const n of ["config.toml", "installation_id", "sessions"]) {
      expect(await fs.readlink(path.join(home, n))).toBe(path.join(real, n));
    }
  });

  it("says plainly when the real Codex home cannot be read", async () => {
    if (process.getuid?.() === 0) {
      // root reads everything: make the home a file instead, which fails the same check.
      await using dir = await tempDir();
      await fs.writeFile(dir.join("real"), "");
      await expect(
        prepareAccountHome({
          realHome: dir.join("real"),
          homesDir: dir.join("homes"),
          ourAccountId: "acc_cccccc",
          auth: AUTH,
        }),
      ).rejects.toThrow(/Codex home .* (is not a directory|cannot)/);
      return;
    }
    await using dir = await tempDir();
    await fs.mkdir(dir.join("real"), { mode: 0o000 });
    await expect(
      prepareAccountHome({
        realHome: dir.join("real"),
        homesDir: dir.join("homes"),
        ourAccountId: "acc_cccccc",
        auth: AUTH,
      }),
    ).rejects.toThrow(/cannot read the Codex home .* permission denied/);
  });
});
