/**
 * Resolves settings from defaults < $CODEX_POOL_HOME/config.toml < environment < flags.
 * Read once per command into a frozen object; nothing reads the environment at import time.
 */
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import type { parse as ParseToml } from "smol-toml";
import { ConfigError, errorMessage, hasErrorCode } from "./errors.js";
import { expandHome, type Env } from "./paths.js";
import {
  SETTINGS,
  SETTING_NAMES,
  type SettingDef,
  type SettingName,
  type Settings,
} from "./settings-table.js";

export type SettingSource = "default" | "config" | "env" | "flag";

export interface LoadSettingsOptions {
  env: Env;
  /** Values given on the command line, as strings (parsed like every other source). */
  flags?: Partial<Record<SettingName, string>>;
}

export interface LoadedSettings {
  readonly settings: Settings;
  readonly sources: Readonly<Record<SettingName, SettingSource>>;
}

function describeSource(name: SettingName, source: SettingSource, file: string | null): string {
  const def: SettingDef = SETTINGS[name];
  switch (source) {
    case "env":
      return def.env;
    case "config":
      return `${def.toml ?? name} in ${file ?? "config.toml"}`;
    case "flag":
      return `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
    case "default":
      return `the default of ${name}`;
  }
}

export function parseSettingValue(
  name: SettingName,
  raw: string,
  where: string,
  env: Env,
): string | number | boolean {
  const def: SettingDef = SETTINGS[name];
  const value = raw.trim();
  const bad = (expected: string): never => {
    throw new ConfigError(`invalid ${where}: "${raw}" is not ${expected}`);
  };
  switch (def.type) {
    case "string":
      return raw;
    case "path":
      if (value === "") bad("a path");
      return expandHome(value, env);
    case "url": {
      let url: URL;
      try {
        url = new URL(value);
      } catch {
        return bad("a URL (e.g. https://example.com)");
      }
      if (url.protocol !== "https:" && url.protocol !== "http:") bad("an http(s) URL");
      return value.replace(/\/+$/, "");
    }
    case "database-url":
      // Checked by shape only: the password it may hold must never reach a message.
      if (!/^postgres(?:ql)?:\/\/[^\s]+$/.test(value)) {
        throw new ConfigError(
          `invalid ${where}: not a PostgreSQL URL (expected postgres://user:password@host:5432/database)`,
        );
      }
      return value;
    case "integer":
    case "percent": {
      if (!/^-?\d+$/.test(value))
        bad(def.type === "percent" ? "a whole percentage" : "a whole number");
      const n = Number(value);
      const min = def.min ?? Number.MIN_SAFE_INTEGER;
      const max = def.max ?? Number.MAX_SAFE_INTEGER;
      if (n < min || n > max) bad(`between ${min} and ${max}`);
      return n;
    }
    case "choice": {
      const choices = def.choices ?? [];
      if (!choices.includes(value)) bad(`one of ${choices.join(", ")}`);
      return value;
    }
    case "boolean": {
      const lower = value.toLowerCase();
      if (["1", "true", "yes", "on"].includes(lower)) return true;
      if (["0", "false", "no", "off"].includes(lower)) return false;
      return bad("a boolean (true/false, 1/0)");
    }
  }
}

function readConfigToml(file: string): Record<string, unknown> {
  let text: string;
  try {
    // Most runs have no config.toml: found out without an exception (start-up time, above).
    if (fs.statSync(file, { throwIfNoEntry: false }) === undefined) return {};
    text = fs.readFileSync(file, "utf8");
  } catch (error) {
    if (hasErrorCode(error, "ENOENT")) return {};
    throw new ConfigError(`cannot read ${file}: ${errorMessage(error)}; fix its permissions`, {
      cause: error,
    });
  }
  try {
    // Loaded only when a config.toml exists: most runs have none, and start-up time matters
    // (`codex-pool run -- --version` is measured against the bare codex launcher).
    const { parse } = createRequire(import.meta.url)("smol-toml") as { parse: typeof ParseToml };
    return parse(text);
  } catch (error) {
    const first = errorMessage(error).split("\n")[0] ?? "";
    throw new ConfigError(`${file} is not valid TOML (${first}); fix or remove it`, {
      cause: error,
    });
  }
}

export function loadSettings(options: LoadSettingsOptions): LoadedSettings {
  const { env } = options;
  const flags = options.flags ?? {};
  const values: Record<string, string | number | boolean> = {};
  const sources = {} as Record<SettingName, SettingSource>;

  const pick = (name: SettingName, config: Record<string, unknown>, file: string | null): void => {
    const def: SettingDef = SETTINGS[name];
    const flag = flags[name];
    const envValue = env[def.env];
    let raw: string;
    let source: SettingSource;
    if (flag !== undefined) {
      raw = flag;
      source = "flag";
    } else if (envValue !== undefined && envValue !== "") {
      raw = envValue;
      source = "env";
    } else if (def.toml !== null && config[def.toml] !== undefined) {
      const v = config[def.toml];
      if (typeof v !== "string" && typeof v !== "number" && typeof v !== "boolean") {
        throw new ConfigError(
          `invalid ${describeSource(name, "config", file)}: expected a ${def.type}`,
        );
      }
      raw = String(v);
      source = "config";
    } else {
      raw = def.default;
      source = "default";
    }
    const where = describeSource(name, source, file);
    // "" is "unset / automatic", except for a path that must have a value (the homes).
    const required = def.type === "path" && def.default !== "";
    values[name] = required || raw !== "" ? parseSettingValue(name, raw, where, env) : raw;
    sources[name] = source;
  };

  // The pool home decides where config.toml lives, so it cannot come from config.toml.
  pick("poolHome", {}, null);
  const configFile = path.join(values["poolHome"] as string, "config.toml");
  const config = readConfigToml(configFile);
  const known = new Set<string | null>(SETTING_NAMES.map((n) => SETTINGS[n].toml));
  for (const key of Object.keys(config)) {
    if (!known.has(key)) {
      throw new ConfigError(`unknown setting "${key}" in ${configFile}; see codex-pool --help`);
    }
  }
  for (const name of SETTING_NAMES) if (name !== "poolHome") pick(name, config, configFile);

  return {
    settings: Object.freeze(values) as unknown as Settings,
    sources: Object.freeze(sources),
  };
}

/** Settings for code and tests that build them without files (e.g. the simulator, unit tests). */
export function defaultSettings(overrides: Partial<Settings> = {}, env: Env = {}): Settings {
  const values: Record<string, string | number | boolean> = {};
  for (const name of SETTING_NAMES) {
    const def: SettingDef = SETTINGS[name];
    values[name] =
      def.default === "" ? "" : parseSettingValue(name, def.default, `default ${name}`, env);
  }
  return Object.freeze({ ...values, ...overrides }) as unknown as Settings;
}
