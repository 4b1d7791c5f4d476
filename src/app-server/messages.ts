/**
 * The app-server methods and notifications live mode uses, as the 0.169/0.171 binaries generate
 * them (`codex app-server generate-ts --experimental`; docs/codex-app-server.md §3). Schemas hold
 * only the fields we read and pass the rest through, so a newer codex that adds fields still
 * parses; a field we rely on that is missing or mistyped is a malformed message.
 */
import { z } from "zod";

/** How we introduce ourselves when we open a connection of our own (tests, probes). */
export interface ClientInfo {
  name: string;
  title: string | null;
  version: string;
}

export function initializeParams(clientInfo: ClientInfo): Record<string, unknown> {
  // Without experimentalApi the chatgptAuthTokens login is refused (docs/codex-app-server.md §3).
  return { clientInfo, capabilities: { experimentalApi: true } };
}

/** An account handed to the app-server: access token only, never a refresh token (decision 11). */
export interface SuppliedAccount {
  /** The ChatGPT access token (JWT). A secret: never logged. */
  readonly accessToken: string;
  /** The ChatGPT account (workspace) id; the `chatgpt-account-id` the requests will carry. */
  readonly chatgptAccountId: string;
  /** "plus", "pro", …; null lets codex read it from the token's claims. */
  readonly planType: string | null;
}

export const LOGIN_METHOD = "account/login/start";

export function loginParams(account: SuppliedAccount): Record<string, unknown> {
  return {
    type: "chatgptAuthTokens",
    accessToken: account.accessToken,
    chatgptAccountId: account.chatgptAccountId,
    chatgptPlanType: account.planType,
  };
}

export const LoginResultSchema = z.object({ type: z.literal("chatgptAuthTokens") }).passthrough();

/** The server→client request for fresh tokens after a 401 (answer within 10 s, §3). */
export const REFRESH_METHOD = "account/chatgptAuthTokens/refresh";

export const RefreshParamsSchema = z
  .object({ reason: z.string(), previousAccountId: z.string().nullish() })
  .passthrough();
export type RefreshRequest = z.infer<typeof RefreshParamsSchema>;

export function refreshResult(account: SuppliedAccount): Record<string, unknown> {
  return {
    accessToken: account.accessToken,
    chatgptAccountId: account.chatgptAccountId,
    chatgptPlanType: account.planType,
  };
}

export const TURN_START_METHOD = "turn/start";

/**
 * A server notification the TUI shows among its warnings (`⚠ N warnings · f2 to view` in its
 * status area), params `{threadId: string | null, message}` [gen] (docs/codex-app-server.md §8).
 */
export const WARNING_METHOD = "warning";

export function turnStartParams(threadId: string, text: string): Record<string, unknown> {
  return { threadId, input: [{ type: "text", text, text_elements: [] }] };
}

const TurnStatusSchema = z.string();
const CodexErrorInfoSchema = z.union([z.string(), z.record(z.unknown())]).nullish();
const TurnErrorSchema = z
  .object({ message: z.string(), codexErrorInfo: CodexErrorInfoSchema })
  .passthrough();
const TurnSchema = z
  .object({ id: z.string(), status: TurnStatusSchema, error: TurnErrorSchema.nullish() })
  .passthrough();

export const TurnStartResultSchema = z.object({ turn: TurnSchema }).passthrough();

const ThreadSchema = z
  .object({
    id: z.string(),
    ephemeral: z.boolean().optional(),
    threadSource: z.string().nullish(),
    path: z.string().nullish(),
  })
  .passthrough();

/** The results that carry the thread a client now works on (thread/start, /resume, /fork). */
export const ThreadResultSchema = z.object({ thread: ThreadSchema }).passthrough();
export const THREAD_RESULT_METHODS: ReadonlySet<string> = new Set([
  "thread/start",
  "thread/resume",
  "thread/fork",
]);

const WindowSchema = z
  .object({
    usedPercent: z.number(),
    windowDurationMins: z.number().nullish(),
    resetsAt: z.number().nullish(),
  })
  .passthrough();

export const RateLimitsSchema = z
  .object({
    limitId: z.string().nullish(),
    limitName: z.string().nullish(),
    primary: WindowSchema.nullish(),
    secondary: WindowSchema.nullish(),
    planType: z.string().nullish(),
    rateLimitReachedType: z.string().nullish(),
  })
  .passthrough();
export type AppServerRateLimits = z.infer<typeof RateLimitsSchema>;

/** The notifications we read, each with the schema of its params. */
export const NOTIFICATION_SCHEMAS = {
  "turn/started": z.object({ threadId: z.string(), turn: TurnSchema }).passthrough(),
  "turn/completed": z.object({ threadId: z.string(), turn: TurnSchema }).passthrough(),
  error: z
    .object({
      error: TurnErrorSchema,
      willRetry: z.boolean(),
      threadId: z.string(),
      turnId: z.string(),
    })
    .passthrough(),
  "account/rateLimits/updated": z.object({ rateLimits: RateLimitsSchema }).passthrough(),
  "account/updated": z
    .object({ authMode: z.string().nullish(), planType: z.string().nullish() })
    .passthrough(),
  "thread/started": z.object({ thread: ThreadSchema }).passthrough(),
} as const;

export type KnownMethod = keyof typeof NOTIFICATION_SCHEMAS;

export type KnownNotification = {
  [M in KnownMethod]: { method: M; params: z.infer<(typeof NOTIFICATION_SCHEMAS)[M]> };
}[KnownMethod];

export function isKnownMethod(method: string): method is KnownMethod {
  return Object.hasOwn(NOTIFICATION_SCHEMAS, method);
}

export type ParsedNotification =
  | { type: "known"; notification: KnownNotification }
  | { type: "other"; method: string }
  | { type: "malformed"; method: KnownMethod; detail: string };

export function parseNotification(method: string, params: unknown): ParsedNotification {
  if (!isKnownMethod(method)) return { type: "other", method };
  const parsed = NOTIFICATION_SCHEMAS[method].safeParse(params);
  if (!parsed.success) {
    // Field paths only: the params are never quoted back.
    const detail = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
    return { type: "malformed", method, detail };
  }
  return { type: "known", notification: { method, params: parsed.data } as KnownNotification };
}

/** codexErrorInfo is a name ("usageLimitExceeded") or an object keyed by one (§3). */
export function errorInfoName(
  info: string | Record<string, unknown> | null | undefined,
): string | null {
  if (info === null || info === undefined) return null;
  if (typeof info === "string") return info;
  return Object.keys(info)[0] ?? null;
}

export const USAGE_LIMIT_ERROR = "usageLimitExceeded";
