/**
 * The pool file's shape (version 1), validated with zod on every read. The file lives at
 * $CODEX_POOL_HOME/pool.json (0600) and is changed only through PoolStore.transact.
 */
import { z } from "zod";
import { kindOfMinutes, WINDOW_KINDS } from "../quota/window-kind.js";

export const POOL_VERSION = 1;

const IsoTime = z.string().datetime({ offset: true });

/**
 * One quota window. `kind` comes from its length with a tolerance (src/quota/window-kind.ts), never
 * its slot, and is re-derived on every read: snapshots written before the 30-day kind and the
 * tolerance existed (kinds 5h/weekly/other, e.g. a 299-minute "other") read as what they are.
 */
export const QuotaWindowSchema = z
  .object({
    kind: z.enum(WINDOW_KINDS),
    windowMinutes: z.number().int().positive().nullable(),
    /** 0–100; a reported overage (above 100) is stored as 100. */
    usedPercent: z.number().min(0).max(100),
    resetsAt: IsoTime.nullable(),
  })
  .transform((w) =>
    w.windowMinutes === null ? w : { ...w, kind: kindOfMinutes(w.windowMinutes) },
  );
export type QuotaWindow = z.infer<typeof QuotaWindowSchema>;

/**
 * An allowance that is not a window (docs/chatgpt-backend.md §3.1): a workspace spend cap
 * (`spend_control`, with its `individual_limit`) or an individual credit limit
 * (`rate_limit.individual_limit`, e.g. an enterprise seat's monthly credits). Reached, it blocks the
 * account until `resetsAt`; otherwise its percent left counts like a long window's.
 */
export const ALLOWANCE_KINDS = ["spend-cap", "credit-limit"] as const;
export type AllowanceKind = (typeof ALLOWANCE_KINDS)[number];
export const AllowanceSchema = z.object({
  kind: z.enum(ALLOWANCE_KINDS),
  reached: z.boolean(),
  /** As reported: may exceed 100 (a spend cap overrun); null when the answer gave no percent. */
  usedPercent: z.number().min(0).nullable(),
  /** The allowance in the service's own unit (credits or currency), when given. */
  limit: z.number().nullable(),
  used: z.number().nullable(),
  remaining: z.number().nullable(),
  resetsAt: IsoTime.nullable(),
});
export type Allowance = z.infer<typeof AllowanceSchema>;

/**
 * A limit that never blocks ordinary turns: a per-model limit (`additional_rate_limits[]`, the
 * `x-codex-<family>-*` headers) or the code-review allowance (`code_review_rate_limit`). Kept to
 * be shown, never judged.
 */
export const SideLimitSchema = z.object({
  scope: z.enum(["model", "code-review"]),
  /** `limit_name`, e.g. "GPT-5.3-Codex-Spark"; null when the answer had none. */
  name: z.string().nullable(),
  /** `metered_feature` or the header family, e.g. "codex_bengalfox". */
  feature: z.string().nullable(),
  windows: z.array(QuotaWindowSchema),
  limitReached: z.boolean(),
});
export type SideLimit = z.infer<typeof SideLimitSchema>;

export const QUOTA_SOURCES = [
  "usage-api",
  "headers",
  "rate-limits-event",
  "429",
  "rollout",
] as const;
export type QuotaSource = (typeof QUOTA_SOURCES)[number];

export const QuotaSnapshotSchema = z.object({
  observedAt: IsoTime,
  source: z.enum(QUOTA_SOURCES),
  plan: z.string().nullable(),
  /** Any number of windows, in no particular order (a weekly-only plan has one). */
  windows: z.array(QuotaWindowSchema),
  /** Spend caps and credit limits (absent in snapshots stored before they were read). */
  allowances: z.array(AllowanceSchema).optional(),
  /** Per-model and code-review limits: shown, never blocking. */
  sideLimits: z.array(SideLimitSchema).optional(),
  /** Set when the source said the limit is reached (429, `limit_reached`, usage_limit_exceeded). */
  limitReached: z.boolean().default(false),
  /** When a reached limit lifts, if the source said so (a 429's `resets_at`); windows may say more. */
  limitResetsAt: IsoTime.nullable().optional(),
  /** Which limit the service said was reached (`rate_limit_reached_type`), e.g. a spend cap's. */
  reachedType: z.string().nullable().optional(),
});
export type QuotaSnapshot = z.infer<typeof QuotaSnapshotSchema>;

export const ProbeErrorSchema = z.object({
  at: IsoTime,
  /** `throttled`: a short `rate_limit_exceeded` (docs/chatgpt-backend.md §3.3), not a quota. */
  kind: z.enum(["network", "timeout", "http", "malformed", "auth", "throttled"]),
  message: z.string(),
  /** throttled: when asking again makes sense. */
  retryAt: IsoTime.nullable().optional(),
});
export type ProbeError = z.infer<typeof ProbeErrorSchema>;

export const TokensSchema = z.object({
  accessToken: z.string().min(1),
  refreshToken: z.string().min(1),
  idToken: z.string(),
  /** From the access token's JWT `exp`; null when it has none. */
  accessTokenExpiresAt: IsoTime.nullable(),
  lastRefreshAt: IsoTime.nullable(),
});
export type Tokens = z.infer<typeof TokensSchema>;

export const AccountStateSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("ok") }),
  z.object({ kind: z.literal("needs-login"), reason: z.string(), since: IsoTime }),
  /**
   * A refresh was sent and nobody knows whether the service rotated the token (a shared pool's
   * holder died or stalled after sending): never spent again until its holder's journal or a new
   * login settles it (docs/team-pool.md "In doubt").
   */
  z.object({ kind: z.literal("in-doubt"), reason: z.string(), since: IsoTime }),
]);
export type AccountState = z.infer<typeof AccountStateSchema>;

export const FloorsSchema = z.object({
  fiveHour: z.number().min(0).max(100).optional(),
  weekly: z.number().min(0).max(100).optional(),
});
export type Floors = z.infer<typeof FloorsSchema>;

/**
 * The service said this account's plan does not include Codex, or this model (`usage_not_included`,
 * docs/chatgpt-backend.md §3.3): permanent, so the account is never waited for nor chosen again for
 * that model (`model` null: for any model). A new login clears it.
 */
export const NotIncludedSchema = z.object({
  model: z.string().nullable(),
  at: IsoTime,
  message: z.string().nullable(),
});
export type NotIncluded = z.infer<typeof NotIncludedSchema>;

export const AccountSchema = z.object({
  /** Our own stable id ("acc_" + random), never reused. */
  id: z.string().regex(/^acc_[a-z0-9]{6,32}$/),
  /** The ChatGPT account (workspace) id, sent as `chatgpt-account-id`. */
  accountId: z.string().min(1),
  email: z.string(),
  plan: z.string().nullable(),
  label: z.string().nullable(),
  tokens: TokensSchema,
  addedAt: IsoTime,
  lastUsedAt: IsoTime.nullable(),
  state: AccountStateSchema,
  quota: QuotaSnapshotSchema.nullable().default(null),
  probeError: ProbeErrorSchema.nullable().default(null),
  floors: FloorsSchema.default({}),
  notIncluded: z.array(NotIncludedSchema).optional(),
});
export type Account = z.infer<typeof AccountSchema>;

/**
 * A supervised session and its lease on an account, renewed by its heartbeat, so other sessions
 * (on any machine) avoid the account and leave its refresh token alone (src/pool/live-sessions.ts).
 */
export const LiveSessionSchema = z.object({
  pid: z.number().int().positive(),
  host: z.string(),
  account: z.string(),
  sessionId: z.string().nullable(),
  phase: z.enum(["running", "draining", "switching", "waiting"]),
  startedAt: IsoTime,
  heartbeatAt: IsoTime,
  /** When the lease lapses unless renewed (absent in entries written before leases had one). */
  expiresAt: IsoTime.optional(),
  /**
   * Whether its codex holds the account's refresh token: yes in relaunch mode (docs/decisions.md
   * decision 3), never in live mode (decision 11), nor while it waits with no codex. Absent: it does.
   */
  holdsRefreshToken: z.boolean().optional(),
});
export type LiveSession = z.infer<typeof LiveSessionSchema>;

export const PoolSchema = z.object({
  version: z.literal(POOL_VERSION),
  /** Our id of the default account (what `switch` chose), or null. */
  defaultAccount: z.string().nullable(),
  accounts: z.array(AccountSchema),
  sessions: z.array(LiveSessionSchema).default([]),
});
export type Pool = z.infer<typeof PoolSchema>;

export function emptyPool(): Pool {
  return { version: POOL_VERSION, defaultAccount: null, accounts: [], sessions: [] };
}
