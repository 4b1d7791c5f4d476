/**
 * The one declarative settings table (docs/style.md rule 11). Validation, `--help` text, the README's
 * settings section and `config.toml` keys are all generated from it. Add a setting here and only here.
 */
export type SettingType =
  "string" | "url" | "database-url" | "path" | "integer" | "percent" | "boolean" | "choice";

export interface SettingDef {
  readonly type: SettingType;
  readonly env: string;
  /** Key in $CODEX_POOL_HOME/config.toml; null when the setting cannot live there. */
  readonly toml: string | null;
  /** The default as a string, parsed like any other source; "" means "unset / automatic". */
  readonly default: string;
  readonly min?: number;
  readonly max?: number;
  /** The values a "choice" takes. */
  readonly choices?: readonly string[];
  readonly description: string;
}

export const SETTINGS = {
  poolHome: {
    type: "path",
    env: "CODEX_POOL_HOME",
    toml: null,
    default: "~/.codex-pool",
    description: "The pool's own directory (accounts, tokens, locks, overlay homes).",
  },
  codexHome: {
    type: "path",
    env: "CODEX_HOME",
    toml: "codex_home",
    default: "~/.codex",
    description: "The Codex CLI's home, as Codex itself reads it.",
  },
  codexBin: {
    type: "string",
    env: "CODEX_POOL_CODEX_BIN",
    toml: "codex_bin",
    default: "",
    description:
      "The real codex executable. Default: `codex` on PATH, else the bundled dependency.",
  },
  authUrl: {
    type: "url",
    env: "CODEX_POOL_AUTH_URL",
    toml: "auth_url",
    default: "https://auth.openai.com",
    description: "OAuth issuer base URL (sign-in, token refresh).",
  },
  backendUrl: {
    type: "url",
    env: "CODEX_POOL_BACKEND_URL",
    toml: "backend_url",
    default: "https://chatgpt.com/backend-api",
    description: "ChatGPT backend base URL (usage, turns).",
  },
  rotateAt5h: {
    type: "percent",
    env: "CODEX_POOL_ROTATE_AT_5H",
    toml: "rotate_at_5h",
    default: "5",
    min: 0,
    max: 100,
    description:
      "Rotate away when a window of a day or shorter (the 5-hour one) has this percent left or less.",
  },
  rotateAtWeekly: {
    type: "percent",
    env: "CODEX_POOL_ROTATE_AT_WEEKLY",
    toml: "rotate_at_weekly",
    default: "5",
    min: 0,
    max: 100,
    description:
      "The same for longer windows (weekly, 30-day) and allowances (spend caps, credit limits).",
  },
  quotaMaxAgeSeconds: {
    type: "integer",
    env: "CODEX_POOL_QUOTA_MAX_AGE",
    toml: "quota_max_age_seconds",
    default: "60",
    min: 0,
    max: 86_400,
    description:
      "`status`, `switch --best` and a launch re-probe an account whose quota is older than this (seconds).",
  },
  probeTimeoutMs: {
    type: "integer",
    env: "CODEX_POOL_PROBE_TIMEOUT_MS",
    toml: "probe_timeout_ms",
    default: "8000",
    min: 100,
    max: 120_000,
    description: "Per-account timeout of a quota probe (milliseconds).",
  },
  probeConcurrency: {
    type: "integer",
    env: "CODEX_POOL_PROBE_CONCURRENCY",
    toml: "probe_concurrency",
    default: "16",
    min: 1,
    max: 128,
    description: "How many accounts `status`, `switch --best` and a launch probe at once.",
  },
  refreshSkewSeconds: {
    type: "integer",
    env: "CODEX_POOL_REFRESH_SKEW",
    toml: "refresh_skew_seconds",
    default: "300",
    min: 0,
    max: 86_400,
    description: "Refresh an access token this many seconds before it expires.",
  },
  lockWaitMs: {
    type: "integer",
    env: "CODEX_POOL_LOCK_WAIT_MS",
    toml: "lock_wait_ms",
    default: "15000",
    min: 100,
    max: 600_000,
    description: "How long to wait for the pool lock before giving up (milliseconds).",
  },
  lockStaleMs: {
    type: "integer",
    env: "CODEX_POOL_LOCK_STALE_MS",
    toml: "lock_stale_ms",
    default: "30000",
    min: 2000,
    max: 600_000,
    description: "A lock not renewed for this long (or whose owner process is gone) is recovered.",
  },
  loginTimeoutSeconds: {
    type: "integer",
    env: "CODEX_POOL_LOGIN_TIMEOUT",
    toml: "login_timeout_seconds",
    default: "300",
    min: 5,
    max: 3600,
    description: "How long `login` waits for the browser or device approval (seconds).",
  },
  quotaPollSeconds: {
    type: "integer",
    env: "CODEX_POOL_QUOTA_POLL",
    toml: "quota_poll_seconds",
    default: "120",
    min: 5,
    max: 86_400,
    description: "While supervising, re-check the running account's usage this often (seconds).",
  },
  prewarmMargin: {
    type: "percent",
    env: "CODEX_POOL_PREWARM_MARGIN",
    toml: "prewarm_margin",
    default: "10",
    min: 0,
    max: 100,
    description: "Choose and check the next account when within this many points of the floor.",
  },
  killGraceSeconds: {
    type: "integer",
    env: "CODEX_POOL_KILL_GRACE",
    toml: "kill_grace_seconds",
    default: "5",
    min: 1,
    max: 120,
    description: "Seconds between SIGTERM and SIGKILL when stopping codex.",
  },
  mode: {
    type: "choice",
    env: "CODEX_POOL_MODE",
    toml: "mode",
    default: "live",
    choices: ["live", "relaunch"],
    description:
      "How a session moves to another account: `live` hands the running codex the next account between turns (where the codex version is tested for it, else it relaunches), `relaunch` restarts codex with `codex resume`.",
  },
  continueAfterLimit: {
    type: "boolean",
    env: "CODEX_POOL_CONTINUE",
    toml: "continue_after_limit",
    default: "true",
    description: "After a turn failed on the usage limit, resume with the continuation prompt.",
  },
  continuationPrompt: {
    type: "string",
    env: "CODEX_POOL_CONTINUE_PROMPT",
    toml: "continuation_prompt",
    default:
      "The previous turn was interrupted by a usage limit and the session has moved to another account. Continue the task where you left off.",
    description: "The prompt submitted after a switch caused by the usage limit.",
  },
  continuationTimeoutSeconds: {
    type: "integer",
    env: "CODEX_POOL_CONTINUE_TIMEOUT",
    toml: "continuation_timeout_seconds",
    default: "30",
    min: 2,
    max: 600,
    description:
      "How long the continuation prompt's turn may take to start after a switch before codex-pool sends it once more (seconds).",
  },
  maxSwitches: {
    type: "integer",
    env: "CODEX_POOL_MAX_SWITCHES",
    toml: "max_switches",
    default: "20",
    min: 0,
    max: 10_000,
    description: "Most account switches in one supervised session (the first launch is not one).",
  },
  waitForReset: {
    type: "boolean",
    env: "CODEX_POOL_WAIT",
    toml: "wait_for_reset",
    default: "true",
    description: "When every account is out, wait for the earliest reset (in a terminal only).",
  },
  maxWaitMinutes: {
    type: "integer",
    env: "CODEX_POOL_MAX_WAIT_MINUTES",
    toml: "max_wait_minutes",
    default: "600",
    min: 0,
    max: 20_160,
    description: "Longest wait for a reset before giving up (minutes).",
  },
  bindTimeoutSeconds: {
    type: "integer",
    env: "CODEX_POOL_BIND_TIMEOUT",
    toml: "bind_timeout_seconds",
    default: "60",
    min: 1,
    max: 3600,
    description: "How long to look for a new session's rollout file after launch (seconds).",
  },
  databaseUrl: {
    type: "database-url",
    env: "CODEX_POOL_DATABASE_URL",
    toml: "database_url",
    default: "",
    description:
      "A `postgres://` URL: share one pool among machines in PostgreSQL instead of the local file (see Team pool). Its password is never printed.",
  },
  databaseListenUrl: {
    type: "database-url",
    env: "CODEX_POOL_DATABASE_LISTEN_URL",
    toml: "database_listen_url",
    default: "",
    description:
      "A direct (non-pooled) `postgres://` URL for change notifications when `database_url` goes through a pooler in transaction mode. Default: `database_url`.",
  },
  databaseKeyFile: {
    type: "path",
    env: "CODEX_POOL_DATABASE_KEY_FILE",
    toml: "database_key_file",
    default: "",
    description:
      "A file (mode 0600) holding the team's key for the tokens in the database, when `CODEX_POOL_DATABASE_KEY` is not set.",
  },
} as const satisfies Record<string, SettingDef>;

export type SettingName = keyof typeof SETTINGS;

type ValueOf<D extends SettingDef> = D["type"] extends "integer" | "percent"
  ? number
  : D["type"] extends "boolean"
    ? boolean
    : D extends { readonly choices: readonly (infer C extends string)[] }
      ? C
      : string;

export type Settings = {
  readonly [K in SettingName]: ValueOf<(typeof SETTINGS)[K]>;
};

export const SETTING_NAMES = Object.keys(SETTINGS) as SettingName[];
