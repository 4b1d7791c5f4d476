/**
 * A Codex home and environment that make the real codex binary talk to the simulator in ChatGPT mode
 * (docs/codex-cli.md §1b, §1e, §6): HTTPS backend with the throwaway CA, refresh/revoke overrides, every
 * other destination refused by the stray-traffic guard, and first-run screens pre-answered.
 */
import path from "node:path";
import { stringify } from "smol-toml";
import { ensurePrivateDir, writeFileAtomic } from "../platform/atomic-file.js";
import type { Env } from "../platform/paths.js";
import type { Simulator } from "./types.js";

export interface CodexHomeOptions {
  /** Project directories to mark trusted (skips the "Trust this folder?" screen). */
  cwd: string | string[];
  /** Also write an auth.json with fresh tokens for this account. */
  accountId?: string;
  model?: string;
}

/** The config.toml contents for ChatGPT mode against the simulator. */
export function simulatorConfig(
  sim: Simulator,
  options: CodexHomeOptions,
): Record<string, unknown> {
  const model = options.model ?? "gpt-5.5";
  const cwds = Array.isArray(options.cwd) ? options.cwd : [options.cwd];
  return {
    model,
    // chatgpt_base_url must be HTTPS (§0.1); openai_base_url moves /models and the turns too (§1b).
    chatgpt_base_url: `${sim.backendUrl}/`,
    openai_base_url: `${sim.backendUrl}/codex`,
    check_for_update_on_startup: false,
    cli_auth_credentials_store: "file",
    analytics: { enabled: false },
    // The curated-plugin sync reaches github.com and chatgpt.com otherwise (§1e).
    features: { plugins: false, apps: false, remote_plugin: false },
    projects: Object.fromEntries(
      cwds.map((dir) => [path.resolve(dir), { trust_level: "trusted" }]),
    ),
    notice: { hide_rate_limit_model_nudge: true, model_migrations: { [model]: "gpt-6-sol" } },
    tui: { screen_reader_detection_done: true, model_availability_nux: { "gpt-6.1-sol": 1 } },
  };
}

/** Writes `<dir>/config.toml` (and `auth.json` when asked) for a codex child against `sim`. */
export async function prepareCodexHome(
  dir: string,
  sim: Simulator,
  options: CodexHomeOptions,
): Promise<void> {
  await ensurePrivateDir(dir);
  await writeFileAtomic(
    path.join(dir, "config.toml"),
    stringify(simulatorConfig(sim, options)) + "\n",
    {
      mode: 0o600,
    },
  );
  if (options.accountId !== undefined) {
    const auth = JSON.stringify(sim.authJsonFor(options.accountId), null, 2) + "\n";
    await writeFileAtomic(path.join(dir, "auth.json"), auth, { mode: 0o600 });
  }
}

/** Variables that would take codex out of ChatGPT/auth.json mode (§1b, §1c). */
const STRIPPED = [
  "OPENAI_API_KEY",
  "CODEX_API_KEY",
  "CODEX_ACCESS_TOKEN",
  "OPENAI_BASE_URL",
] as const;

/**
 * The environment for a codex child against `sim`: `base` (e.g. a test's env) minus the variables
 * that would override auth.json, plus the CA, token-URL overrides and the stray-traffic proxy.
 */
export function codexEnv(sim: Simulator, base: Env = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(base)) {
    if (value !== undefined && !(STRIPPED as readonly string[]).includes(key)) env[key] = value;
  }
  return {
    ...env,
    CODEX_CA_CERTIFICATE: sim.caFile,
    CODEX_REFRESH_TOKEN_URL_OVERRIDE: `${sim.authUrl}/oauth/token`,
    CODEX_REVOKE_TOKEN_URL_OVERRIDE: `${sim.authUrl}/oauth/revoke`,
    HTTPS_PROXY: sim.proxyUrl,
    HTTP_PROXY: sim.proxyUrl,
    ALL_PROXY: sim.proxyUrl,
    https_proxy: sim.proxyUrl,
    http_proxy: sim.proxyUrl,
    all_proxy: sim.proxyUrl,
    NO_PROXY: "127.0.0.1,localhost",
    no_proxy: "127.0.0.1,localhost",
  };
}
