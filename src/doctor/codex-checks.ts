/**
 * Doctor checks of the Codex side: the user's auth.json and config.toml, environment variables
 * that would defeat the pool (docs/decisions.md decision 10), and clock skew against the backend.
 */
import fs from "node:fs/promises";
import { parse as parseToml } from "smol-toml";
import { readAuthFile, tokenOwner, tokensOf } from "../codex/auth-file.js";
import type { Clock } from "../platform/clock.js";
import { errorMessage, hasErrorCode } from "../platform/errors.js";
import type { CodexPaths, Env } from "../platform/paths.js";
import { accountName } from "../pool/account-name.js";
import type { Pool } from "../pool/schema.js";
import { fail, ok, warn, type Finding } from "./finding.js";
import { discardBody, type HttpFetch } from "../platform/http.js";

export async function checkAuthFile(codex: CodexPaths, pool: Pool | null): Promise<Finding> {
  try {
    const auth = await readAuthFile(codex.authFile);
    if (auth === null) {
      return warn(
        "codex-auth",
        `${codex.authFile} does not exist (plain codex is not signed in)`,
        "codex-pool switch <account> writes it",
      );
    }
    const tokens = tokensOf(auth);
    if (tokens === null) {
      return warn(
        "codex-auth",
        `${codex.authFile} holds no ChatGPT tokens`,
        "codex-pool switch <account> writes them",
      );
    }
    const id = tokenOwner(tokens);
    const accountId = id.accountId;
    const known = pool?.accounts.find(
      (a) => a.accountId === accountId && (id.email === null || a.email === id.email),
    );
    const who = `${id.email ?? "unknown email"} (${accountId ?? "unknown account"})`;
    return known !== undefined && pool !== null
      ? ok("codex-auth", `${codex.authFile} holds ${accountName(pool, known, { reveal: true })}`)
      : warn(
          "codex-auth",
          `${codex.authFile} holds ${who}, which is not in the pool`,
          "codex-pool import adds it",
        );
  } catch (error) {
    return fail(
      "codex-auth",
      `${codex.authFile} cannot be read`,
      "fix its permissions or sign in with codex again",
      errorMessage(error),
    );
  }
}

export async function checkCodexConfig(codex: CodexPaths): Promise<Finding[]> {
  let text: string;
  try {
    text = await fs.readFile(codex.configFile, "utf8");
  } catch (error) {
    if (hasErrorCode(error, "ENOENT"))
      return [ok("codex-config", `no ${codex.configFile} (codex defaults)`)];
    return [
      fail(
        "codex-config",
        `${codex.configFile} cannot be read`,
        "fix its permissions",
        errorMessage(error),
      ),
    ];
  }
  let config: Record<string, unknown>;
  try {
    config = parseToml(text);
  } catch (error) {
    return [
      fail(
        "codex-config",
        `${codex.configFile} is not valid TOML`,
        "fix it: codex itself will refuse it",
        errorMessage(error).split("\n")[0],
      ),
    ];
  }
  const findings: Finding[] = [];
  const store = config["cli_auth_credentials_store"];
  if (store === "keyring" || store === "auto") {
    findings.push(
      warn(
        "codex-keyring",
        `${codex.configFile} sets cli_auth_credentials_store = "${store}"`,
        `codex-pool forces "file" for its own children; for plain codex, set cli_auth_credentials_store = "file"`,
      ),
    );
  }
  const features = config["features"];
  if (
    typeof features === "object" &&
    features !== null &&
    (features as Record<string, unknown>)["daemon_auto_start"] === true
  ) {
    findings.push(
      warn(
        "codex-daemon",
        "features.daemon_auto_start is on: the TUI daemon caches one account's token",
        "codex-pool launches codex with --no-daemon; stop a running daemon with: codex app-server daemon stop",
      ),
    );
  }
  if (findings.length === 0)
    findings.push(ok("codex-config", `${codex.configFile} has nothing that defeats the pool`));
  return findings;
}

export function checkEnvironment(env: Env): Finding[] {
  const set = ["CODEX_API_KEY", "CODEX_ACCESS_TOKEN", "OPENAI_API_KEY"].filter(
    (k) => (env[k] ?? "") !== "",
  );
  if (set.length === 0)
    return [ok("env-api-key", "no API-key variables that would override ChatGPT sign-in")];
  return [
    warn(
      "env-api-key",
      `${set.join(", ")} set in the environment`,
      `codex-pool removes ${set.length > 1 ? "them" : "it"} for its children; unset ${set.length > 1 ? "them" : "it"} for plain codex`,
    ),
  ];
}

/** Compares our clock with the backend's `Date` header; token expiry and resets depend on it. */
export async function checkClockSkew(
  backendUrl: string,
  fetchImpl: HttpFetch,
  clock: Clock,
  timeoutMs: number,
): Promise<Finding> {
  try {
    const before = clock.now();
    const response = await fetchImpl(`${backendUrl}/wham/usage`, {
      method: "GET",
      signal: AbortSignal.timeout(timeoutMs),
    });
    await discardBody(response.body); // only its Date header matters
    const after = clock.now();
    const date = response.headers.get("date");
    if (date === null)
      return warn("clock-skew", "the backend sent no Date header", "nothing to do", backendUrl);
    const skewMs = Date.parse(date) - (before + after) / 2;
    const skewS = Math.round(skewMs / 1000);
    // HTTP dates have 1 s resolution: under 2 s is noise.
    return Math.abs(skewMs) < 30_000
      ? ok("clock-skew", `clock agrees with the backend (${skewS >= 0 ? "+" : ""}${skewS}s)`)
      : fail(
          "clock-skew",
          `clock is off by ${skewS}s against the backend`,
          "sync the system clock (e.g. timedatectl set-ntp true)",
        );
  } catch (error) {
    return warn(
      "clock-skew",
      "could not reach the backend to compare clocks",
      "check the network or CODEX_POOL_BACKEND_URL",
      errorMessage(error),
    );
  }
}
