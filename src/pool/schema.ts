/**
 * The pool file's shape (version 1), validated with zod on every read. The file lives at
 * $CODEX_POOL_HOME/pool.json (0600) and is changed only through PoolStore.transact.
 */
import { z } from "zod";

export const POOL_VERSION = 1;

const IsoTime = z.string().datetime({ offset: true });

/** One quota window. `kind` comes from its length (300 min → 5h, 10080 → weekly), never its slot. */
export const QuotaWindowSchema = z.object({
  kind: z.enum(["5h", "weekly", "other"]),
  windowMinutes: z.number().int().positive().nullable(),
  usedPercent: z.number().min(0).max(100),
  resetsAt: IsoTime.nullable(),
});
export type QuotaWindow = z.infer<typeof QuotaWindowSchema>;

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
  windows: z.array(QuotaWindowSchema),
  /** Set when the source said the limit is reached (429, `limit_reached`, usage_limit_exceeded). */
  limitReached: z.boolean().default(false),
  /** When a reached limit lifts, if the source said so (a 429's `resets_at`); windows may say more. */
  limitResetsAt: IsoTime.nullable().optional(),
});
export type QuotaSnapshot = z.infer<typeof QuotaSnapshotSchema>;

export const ProbeErrorSchema = z.object({
  at: IsoTime,
  kind: z.enum(["network", "timeout", "http", "malformed", "auth"]),
  message: z.string(),
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
});
export type Account = z.infer<typeof AccountSchema>;

/** A supervised session that is alive right now (heartbeat), so other sessions can avoid its account. */
export const LiveSessionSchema = z.object({
  pid: z.number().int().positive(),
  host: z.string(),
  account: z.string(),
  sessionId: z.string().nullable(),
  phase: z.enum(["running", "draining", "switching", "waiting"]),
  startedAt: IsoTime,
  heartbeatAt: IsoTime,
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
