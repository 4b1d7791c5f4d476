/**
 * The supervisor's few lines of text: the switch line, the exec attribution (plain and JSON), the
 * countdown and the pool-exhausted message. Accounts are named by their AccountRef's label, made
 * by src/pool/account-name.ts (`#2 alice@…`), the same way as in every other message.
 */
import type { Clock } from "../platform/clock.js";
import type { Pool } from "../pool/schema.js";
import type { PoolStore } from "../pool/store.js";
import type { AccountRef, Exhaustion, SwitchCause } from "./machine.js";
import { describeQuota } from "./pressure.js";
import { formatClock, formatDuration } from "../platform/time-text.js";
import { describeExhaustion } from "./wait-for-reset.js";

export function shortSession(id: string): string {
  return id.length > 8 ? `${id.slice(0, 8)}…` : id;
}

const CAUSE_TEXT: Record<SwitchCause, string> = {
  limit: "usage limit reached",
  floor: "quota at its floor",
  lease: "another session took the account over while this one was silent",
  "signed-out": "its sign-in was refused and could not be renewed",
};

/** `reason` in the JSON attribution. */
const CAUSE_CODE: Record<SwitchCause, string> = {
  limit: "usage_limit",
  floor: "quota_floor",
  lease: "lease_lost",
  "signed-out": "signed_out",
};

/**
 * The switch line, with both accounts' quota from `source` (a pool just read, or the store).
 * `live`: the running codex was handed the next account (no restart, docs/decisions.md decision 11).
 */
export async function formatSwitchLine(
  source: Pool | Pick<PoolStore, "read">,
  clock: Pick<Clock, "now">,
  sessionId: string,
  from: AccountRef,
  to: AccountRef,
  cause: SwitchCause,
  live = false,
): Promise<string> {
  const pool = "read" in source ? await source.read() : source;
  const now = clock.now();
  const quota = (ref: AccountRef): string =>
    describeQuota(pool.accounts.find((a) => a.id === ref.id)?.quota ?? null, new Date(now), (ms) =>
      formatClock(ms, now),
    );
  return (
    `session ${shortSession(sessionId)} moved ${live ? "live " : ""}from ${from.label} (${quota(from)}) ` +
    `to ${to.label} (${quota(to)}): ${CAUSE_TEXT[cause]}`
  );
}

export function attributionLine(
  account: AccountRef,
  previous: AccountRef | null,
  cause: SwitchCause | null,
  code: number,
): string {
  const moved =
    previous !== null && cause !== null ? `, after ${previous.label} (${CAUSE_TEXT[cause]})` : "";
  return `run served by ${account.label}${moved}; exit ${code}`;
}

/**
 * One JSONL line for `exec --json` consumers, after codex's own lines. `warnings`: what went wrong
 * beside the run so far (src/supervisor/report.ts), as the lines on stderr say it.
 */
export function attributionJson(
  account: AccountRef,
  previous: AccountRef | null,
  cause: SwitchCause | null,
  code: number,
  sessionId: string | null,
  warnings: readonly string[] = [],
): string {
  return JSON.stringify({
    type: "codex_pool.attribution",
    account: account.label,
    account_id: account.id,
    switched_from: previous === null ? null : previous.label,
    reason: cause === null ? null : CAUSE_CODE[cause],
    exit_code: code,
    thread_id: sessionId,
    warnings,
  });
}

export function countdownLine(remainingMs: number, exhaustion: Exhaustion, now: number): string {
  const first = exhaustion.resets
    .filter((r) => r.resetsAt !== null)
    .sort((a, b) => (a.resetsAt ?? 0) - (b.resetsAt ?? 0))[0];
  const who = first
    ? `${first.account.label} resets at ${formatClock(first.resetsAt ?? now, now)}`
    : "";
  return `codex-pool: every account is out; ${who}, resuming in ${formatDuration(Math.ceil(remainingMs / 1000) * 1000, "s")} (Ctrl+C to stop)`;
}

export function exhaustedMessage(
  exhaustion: Exhaustion,
  now: number,
  sessionId: string | null,
): { message: string; earliest: number | null } {
  const base = describeExhaustion(exhaustion, now);
  const when =
    exhaustion.earliest !== null
      ? `; the first resets at ${new Date(exhaustion.earliest).toISOString()} (${formatClock(exhaustion.earliest, now)} local)`
      : "";
  const resume =
    sessionId !== null ? `; continue later with \`codex-pool run resume ${sessionId}\`` : "";
  return { message: `${base}${when}${resume}`, earliest: exhaustion.earliest };
}
