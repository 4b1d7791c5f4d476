import fs from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/platform/errors.js";
import { loadSettings } from "../../src/platform/settings.js";
import { SETTINGS, SETTING_NAMES } from "../../src/platform/settings-table.js";
import { tempDir } from "../helpers/tmp.js";

describe("settings", () => {
  it("applies defaults < config.toml < environment < flags", async () => {
    await using dir = await tempDir();
    const poolHome = dir.join("pool");
    await fs.mkdir(poolHome);
    await fs.writeFile(
      path.join(poolHome, "config.toml"),
      "rotate_at_5h = 20\nrotate_at_weekly = 30\nprobe_concurrency = 3\n",
    );
    const env = {
      HOME: dir.path,
      CODEX_POOL_HOME: poolHome,
      CODEX_POOL_ROTATE_AT_WEEKLY: "40",
      CODEX_POOL_PROBE_CONCURRENCY: "4",
    };
    const { settings, sources } = loadSettings({ env, flags: { probeConcurrency: "5" } });
    expect(settings.rotateAt5h).toBe(20);
    expect(sources.rotateAt5h).toBe("config");
    expect(settings.rotateAtWeekly).toBe(40);
    expect(sources.rotateAtWeekly).toBe("env");
    expect(settings.probeConcurrency).toBe(5);
    expect(sources.probeConcurrency).toBe("flag");
    expect(settings.quotaMaxAgeSeconds).toBe(60);
    expect(sources.quotaMaxAgeSeconds).toBe("default");
    expect(settings.codexHome).toBe(path.join(dir.path, ".codex"));
    expect(Object.isFrozen(settings)).toBe(true);
  });

  it("names the setting and its source when a value is invalid, never clamping", async () => {
    await using dir = await tempDir();
    const env = { HOME: dir.path, CODEX_POOL_HOME: dir.join("p"), CODEX_POOL_ROTATE_AT_5H: "150" };
    expect(() => loadSettings({ env })).toThrow(ConfigError);
    expect(() => loadSettings({ env })).toThrow(/CODEX_POOL_ROTATE_AT_5H.*between 0 and 100/);
    expect(() => loadSettings({ env: { ...env, CODEX_POOL_ROTATE_AT_5H: "abc" } })).toThrow(
      /CODEX_POOL_ROTATE_AT_5H: "abc" is not a whole percentage/,
    );
    expect(() =>
      loadSettings({
        env: { ...env, CODEX_POOL_ROTATE_AT_5H: "5", CODEX_POOL_AUTH_URL: "ftp://x" },
      }),
    ).toThrow(/CODEX_POOL_AUTH_URL/);
    expect(() =>
      loadSettings({ env: { ...env, CODEX_POOL_ROTATE_AT_5H: "5", CODEX_POOL_CONTINUE: "maybe" } }),
    ).toThrow(/CODEX_POOL_CONTINUE.*boolean/);
  });

  it("takes a postgres:// database URL, and refuses another without echoing it", async () => {
    await using dir = await tempDir();
    const env = { HOME: dir.path, CODEX_POOL_HOME: dir.join("pool") };
    const url = "postgres://alice:pw@db.example.com:5432/codex";
    const { settings } = loadSettings({ env: { ...env, CODEX_POOL_DATABASE_URL: url } });
    expect(settings.databaseUrl).toBe(url);
    expect(loadSettings({ env }).settings.databaseUrl).toBe("");
    expect(loadSettings({ env }).settings.databaseKeyFile).toBe("");
    const bad = "mysql://alice:hunter2@db/codex";
    let error: unknown = null;
    try {
      loadSettings({ env: { ...env, CODEX_POOL_DATABASE_URL: bad } });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain("CODEX_POOL_DATABASE_URL");
    expect((error as Error).message).not.toContain("hunter2");
  });

  it("rejects unknown keys and broken TOML in config.toml with the file named", async () => {
    await using dir = await tempDir();
    const poolHome = dir.join("pool");
    await fs.mkdir(poolHome);
    const file = path.join(poolHome, "config.toml");
    await fs.writeFile(file, "rotate_at_5hh = 3\n");
    expect(() => loadSettings({ env: { HOME: dir.path, CODEX_POOL_HOME: poolHome } })).toThrow(
      /unknown setting "rotate_at_5hh"/,
    );
    await fs.writeFile(file, "rotate_at_5h = [\n");
    expect(() => loadSettings({ env: { HOME: dir.path, CODEX_POOL_HOME: poolHome } })).toThrow(
      new RegExp(`${file.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")} is not valid TOML`),
    );
    await fs.writeFile(file, 'rotate_at_5h = "x"\n');
    expect(() => loadSettings({ env: { HOME: dir.path, CODEX_POOL_HOME: poolHome } })).toThrow(
      /rotate_at_5h in .*config.toml/,
    );
  });

  it("strips trailing slashes from URLs and expands ~ in paths", async () => {
    await using dir = await tempDir();
    const env = {
      HOME: dir.path,
      CODEX_POOL_HOME: "~/pool-x",
      CODEX_POOL_BACKEND_URL: "https://127.0.0.1:9/backend-api/",
    };
    const { settings } = loadSettings({ env });
    expect(settings.poolHome).toBe(path.join(dir.path, "pool-x"));
    expect(settings.backendUrl).toBe("https://127.0.0.1:9/backend-api");
  });

  it("has a description, env name and parseable default for every setting", () => {
    const envNames = new Set<string>();
    for (const name of SETTING_NAMES) {
      const def = SETTINGS[name];
      expect(def.description.length).toBeGreaterThan(10);
      expect(def.env).toMatch(/^CODEX_/);
      envNames.add(def.env);
    }
    expect(envNames.size).toBe(SETTING_NAMES.length);
    expect(() => loadSettings({ env: { HOME: "/nonexistent-home" } })).not.toThrow();
  });
});
