/** Runs every doctor check; the CLI renders the findings. */
import type { Clock } from "../platform/clock.js";
import type { CodexPaths, Env, PoolPaths } from "../platform/paths.js";
import type { SettingSource } from "../platform/settings.js";
import type { Settings } from "../platform/settings-table.js";
import type { PoolStore } from "../pool/store.js";
import { checkCodexBinary } from "./binary-check.js";
import { checkSwitchMode } from "./mode-check.js";
import {
  checkAuthFile,
  checkClockSkew,
  checkCodexConfig,
  checkEnvironment,
} from "./codex-checks.js";
import type { Finding } from "./finding.js";
import { checkDatabase } from "./database-checks.js";
import { checkAccounts, checkPoolHome } from "./pool-checks.js";
import { PgPoolStore } from "../pool/pg/pg-store.js";
import type { HttpFetch } from "../platform/http.js";

export interface DoctorDeps {
  env: Env;
  settings: Settings;
  /** Where each setting came from (the mode's fall-back is a choice when asked for). */
  sources?: Readonly<Partial<Record<"mode", SettingSource>>>;
  paths: PoolPaths;
  codex: CodexPaths;
  store: PoolStore;
  clock: Clock;
  fetch: HttpFetch;
}

export async function runDoctor(deps: DoctorDeps): Promise<Finding[]> {
  const { findings: poolFindings, pool } =
    deps.store instanceof PgPoolStore
      ? await checkDatabase(deps.store)
      : await checkPoolHome(deps.paths, deps.store, deps.settings.lockStaleMs, deps.clock);
  const [binary, auth, config, skew] = await Promise.all([
    checkCodexBinary(deps.env, deps.settings),
    checkAuthFile(deps.codex, pool),
    checkCodexConfig(deps.codex),
    checkClockSkew(deps.settings.backendUrl, deps.fetch, deps.clock, deps.settings.probeTimeoutMs),
  ]);
  const mode = checkSwitchMode(deps.settings, deps.sources?.mode ?? "default", binary.version);
  return [
    ...poolFindings,
    ...(pool ? checkAccounts(pool, deps.clock) : []),
    ...binary.findings,
    ...mode,
    auth,
    ...config,
    ...checkEnvironment(deps.env),
    skew,
  ];
}
