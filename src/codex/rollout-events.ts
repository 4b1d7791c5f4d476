/**
 * The lines of a Codex rollout file (`$CODEX_HOME/sessions/YYYY/MM/DD/rollout-<time>-<uuid>.jsonl`,
 * docs/codex-cli.md §3), as typed events. Each line is `{"timestamp","type","payload"}`:
 * - `session_meta` (line 1): id, timestamp, cwd, originator (`codex_exec` | `codex-tui`), source,
 *   cli_version, creator_account_id (ChatGPT mode only);
 * - `event_msg` with payload.type `task_started`, `task_complete` (its `error.codex_error_info` is
 *   `usage_limit_exceeded` after a usage-limit 429 — and, in 0.171, after `usage_not_included` too),
 *   `turn_aborted` (`reason`), `token_count` (`rate_limits`, passed on raw for
 *   src/quota/parse-rate-limits.ts) and `error`;
 * - `response_item`, `turn_context`, … which the supervisor does not need.
 * Everything is optional and unknown fields are kept out; a line that does not parse is skipped.
 */
import { z } from "zod";
import { isSessionId, type SessionId } from "./session-id.js";

const SessionMetaPayload = z
  .object({
    id: z.string(),
    timestamp: z.string().optional(),
    cwd: z.string().optional(),
    originator: z.string().optional(),
    source: z.unknown().optional(),
    cli_version: z.string().optional(),
    creator_account_id: z.string().optional(),
  })
  .passthrough();

export interface SessionMeta {
  readonly id: SessionId;
  /** When codex created the session (ms since epoch), or null. */
  readonly startedAt: number | null;
  readonly cwd: string | null;
  readonly originator: string | null;
  readonly source: string | null;
  readonly cliVersion: string | null;
  readonly creatorAccountId: string | null;
}

/**
 * A token_count's `rate_limits`, kept as the object codex wrote: it is read by the one parser of
 * that format (src/quota/parse-rate-limits.ts), which knows its every shape (docs/chatgpt-backend.md
 * §3.4). `null` in the file (no reading, not "0 % used") and anything that is not an object are
 * null here.
 */
export type RolloutRateLimits = Readonly<Record<string, unknown>>;

export interface TurnError {
  readonly message: string | null;
  /** `usage_limit_exceeded`, … (an object-shaped info is reduced to its first key). */
  readonly codexErrorInfo: string | null;
}

export type RolloutEvent =
  | { readonly type: "session_meta"; readonly meta: SessionMeta }
  | { readonly type: "task_started"; readonly turnId: string | null }
  | {
      readonly type: "task_complete";
      readonly turnId: string | null;
      readonly error: TurnError | null;
    }
  | {
      readonly type: "turn_aborted";
      readonly turnId: string | null;
      readonly reason: string | null;
    }
  | { readonly type: "token_count"; readonly rateLimits: RolloutRateLimits | null }
  | { readonly type: "error"; readonly error: TurnError };

const Line = z.object({ type: z.string(), payload: z.unknown() }).passthrough();
const EventPayload = z
  .object({
    type: z.string(),
    turn_id: z.string().nullish(),
    reason: z.string().nullish(),
    message: z.string().nullish(),
    error: z.unknown().optional(),
    codex_error_info: z.unknown().optional(),
    rate_limits: z.unknown().optional(),
  })
  .passthrough();

function errorInfo(value: unknown): string | null {
  if (typeof value === "string") return value;
  if (typeof value === "object" && value !== null) return Object.keys(value)[0] ?? null;
  return null;
}

function turnError(value: unknown): TurnError | null {
  if (value === null || value === undefined) return null;
  if (typeof value === "string") return { message: value, codexErrorInfo: null };
  const parsed = z
    .object({ message: z.string().nullish(), codex_error_info: z.unknown().optional() })
    .passthrough()
    .safeParse(value);
  if (!parsed.success) return null;
  return {
    message: parsed.data.message ?? null,
    codexErrorInfo: errorInfo(parsed.data.codex_error_info),
  };
}

function rateLimitsOf(value: unknown): RolloutRateLimits | null {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as RolloutRateLimits)
    : null;
}

export function sessionMetaOf(payload: unknown): SessionMeta | null {
  const parsed = SessionMetaPayload.safeParse(payload);
  if (!parsed.success || !isSessionId(parsed.data.id)) return null;
  const p = parsed.data;
  const started = p.timestamp !== undefined ? Date.parse(p.timestamp) : NaN;
  return {
    id: p.id.toLowerCase() as SessionId,
    startedAt: Number.isNaN(started) ? null : started,
    cwd: p.cwd ?? null,
    originator: p.originator ?? null,
    source: typeof p.source === "string" ? p.source : null,
    cliVersion: p.cli_version ?? null,
    creatorAccountId: p.creator_account_id ?? null,
  };
}

/** One rollout line as an event, or null for anything else (other types, garbage). */
export function parseRolloutLine(line: string): RolloutEvent | null {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    return null;
  }
  const outer = Line.safeParse(json);
  if (!outer.success) return null;
  if (outer.data.type === "session_meta") {
    const meta = sessionMetaOf(outer.data.payload);
    return meta === null ? null : { type: "session_meta", meta };
  }
  if (outer.data.type !== "event_msg") return null;
  const parsed = EventPayload.safeParse(outer.data.payload);
  if (!parsed.success) return null;
  const p = parsed.data;
  const turnId = p.turn_id ?? null;
  switch (p.type) {
    case "task_started":
      return { type: "task_started", turnId };
    case "task_complete":
      return { type: "task_complete", turnId, error: turnError(p.error) };
    case "turn_aborted":
      return { type: "turn_aborted", turnId, reason: p.reason ?? null };
    case "token_count":
      return { type: "token_count", rateLimits: rateLimitsOf(p.rate_limits) };
    case "error":
      return {
        type: "error",
        error: { message: p.message ?? null, codexErrorInfo: errorInfo(p.codex_error_info) },
      };
    default:
      return null;
  }
}
