/**
 * Codex session (thread) ids. They are UUIDs (v7 in 0.169, docs/codex-cli.md §3) and end up in file
 * paths and argv, so anything else — `../../etc`, `--last`, an empty string — is rejected here.
 */
import { UsageError } from "../platform/errors.js";

declare const sessionIdBrand: unique symbol;
/** A validated session id: only ever produced by parseSessionId / isSessionId. */
export type SessionId = string & { readonly [sessionIdBrand]: true };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isSessionId(value: unknown): value is SessionId {
  return typeof value === "string" && UUID.test(value);
}

/** The id, lower-cased, or a UsageError naming the bad value (shortened, never interpreted). */
export function parseSessionId(value: string): SessionId {
  if (!isSessionId(value)) {
    const shown = value.length > 60 ? `${value.slice(0, 60)}…` : value;
    throw new UsageError(
      `"${shown}" is not a Codex session id (expected a UUID such as 019a2b3c-4d5e-7f60-8a9b-0c1d2e3f4a5b)`,
    );
  }
  return value.toLowerCase() as SessionId;
}

/** The session id embedded in a rollout file name (`rollout-<time>-<uuid>.jsonl`), if any. */
export function sessionIdFromRolloutName(name: string): SessionId | null {
  const match = /-([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.jsonl$/i.exec(
    name,
  );
  return match?.[1] !== undefined ? (match[1].toLowerCase() as SessionId) : null;
}
