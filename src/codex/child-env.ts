/**
 * What every codex child is given (docs/decisions.md decisions 8 and 10, docs/codex-cli.md §1b/§1c):
 * an environment built explicitly from ours, and the config overrides that point it at the
 * configured backend and force file-based credentials.
 */
import type { Env } from "../platform/paths.js";
import { SETTINGS, SETTING_NAMES, type Settings } from "../platform/settings-table.js";

export const DEFAULT_BACKEND_URL = SETTINGS.backendUrl.default;
export const DEFAULT_AUTH_URL = SETTINGS.authUrl.default;

/**
 * Removed from the child's environment, matched case-insensitively (Windows env names are;
 * docs/supervisor-rules.md R12). The API-key variables would switch codex out of ChatGPT sign-in and
 * bypass the account's auth.json (docs/codex-cli.md §1c).
 */
const CODEX_AUTH_OVERRIDES = ["CODEX_API_KEY", "OPENAI_API_KEY", "CODEX_ACCESS_TOKEN"];
/** Every variable of ours starts with this (settings, debug switches, test hooks, secrets). */
const OUR_PREFIX = "CODEX_POOL_";

export interface ChildEnvOptions {
  /** The environment we were started with; never mutated. */
  base: Env;
  settings: Settings;
  /** The CODEX_HOME the child runs with (an account's overlay home). */
  codexHome: string;
  /**
   * Where codex keeps its SQLite state. Set to the user's real home when running in an overlay,
   * so the databases are shared by every account (kept if the user set CODEX_SQLITE_HOME).
   */
  sqliteHome?: string;
  /** Variables the binary needs (e.g. CODEX_MANAGED_PACKAGE_ROOT when launching the native one). */
  extra?: Readonly<Record<string, string>>;
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, "");
}

export function buildChildEnv(options: ChildEnvOptions): Record<string, string> {
  const { base, settings } = options;
  const ours = new Set(SETTING_NAMES.map((name) => SETTINGS[name].env.toUpperCase()));
  for (const name of CODEX_AUTH_OVERRIDES) ours.add(name);
  const env: Record<string, string> = {};
  let userSqliteHome: string | undefined;
  for (const [name, value] of Object.entries(base)) {
    if (value === undefined) continue;
    const upper = name.toUpperCase();
    if (ours.has(upper) || upper.startsWith(OUR_PREFIX)) continue;
    if (upper === "CODEX_SQLITE_HOME") userSqliteHome = value;
    env[name] = value;
  }
  env["CODEX_HOME"] = options.codexHome;
  if (options.sqliteHome !== undefined && (userSqliteHome === undefined || userSqliteHome === "")) {
    env["CODEX_SQLITE_HOME"] = options.sqliteHome;
  }
  if (trimSlash(settings.authUrl) !== trimSlash(DEFAULT_AUTH_URL)) {
    const auth = trimSlash(settings.authUrl);
    env["CODEX_REFRESH_TOKEN_URL_OVERRIDE"] = `${auth}/oauth/token`;
    env["CODEX_REVOKE_TOKEN_URL_OVERRIDE"] = `${auth}/oauth/revoke`;
  }
  Object.assign(env, options.extra ?? {});
  return env;
}

/** A TOML basic string; JSON string escaping is a subset TOML accepts. */
function tomlString(value: string): string {
  return JSON.stringify(value);
}

/**
 * `-c` overrides for the child: the backend when it is not the default (keeps the user's
 * config.toml untouched), then the forced file credential store — last, so it wins over a
 * `keyring`/`auto` in the user's config or their own `-c` (docs/decisions.md decision 10).
 */
export function codexConfigOverrides(settings: Settings): string[] {
  const out: string[] = [];
  const backend = trimSlash(settings.backendUrl);
  if (backend !== trimSlash(DEFAULT_BACKEND_URL)) {
    out.push("-c", `chatgpt_base_url=${tomlString(`${backend}/`)}`);
    out.push("-c", `openai_base_url=${tomlString(`${backend}/codex`)}`);
  }
  out.push("-c", `cli_auth_credentials_store=${tomlString("file")}`);
  return out;
}
