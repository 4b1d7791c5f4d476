/**
 * What every command gets: resolved settings, paths, the pool store, the clock, and its streams.
 * Built once per invocation from the process's environment and the global flags.
 */
import { systemClock, type Clock } from "../platform/clock.js";
import {
  codexPaths,
  poolPaths,
  type CodexPaths,
  type Env,
  type PoolPaths,
} from "../platform/paths.js";
import { loadSettings, type SettingSource } from "../platform/settings.js";
import type { SettingName, Settings } from "../platform/settings-table.js";
import { openPoolStore } from "../pool/open-store.js";
import type { PoolStore } from "../pool/store.js";
import { Output } from "./output.js";
import { nodeFetch, type HttpFetch } from "../platform/http.js";

export interface CommandContext {
  readonly env: Env;
  readonly settings: Settings;
  readonly sources: Readonly<Record<SettingName, SettingSource>>;
  readonly paths: PoolPaths;
  readonly codex: CodexPaths;
  readonly store: PoolStore;
  readonly clock: Clock;
  readonly out: Output;
  readonly fetch: HttpFetch;
}

export interface ContextOptions {
  env?: Env;
  flags?: Partial<Record<SettingName, string>>;
  out?: Output;
  clock?: Clock;
  /** A `--json` run: diagnostics silent, the product held until the command succeeds. */
  json?: boolean;
}

export function createContext(options: ContextOptions = {}): CommandContext {
  const env = options.env ?? process.env;
  const { settings, sources } = loadSettings({ env, flags: options.flags ?? {} });
  const paths = poolPaths(settings.poolHome);
  const clock = options.clock ?? systemClock;
  return {
    env,
    settings,
    sources,
    paths,
    codex: codexPaths(settings.codexHome),
    store: openPoolStore({ settings, env, paths, clock }),
    clock,
    out: options.out ?? Output.fromProcess(env, { json: options.json === true }),
    fetch: nodeFetch,
  };
}
