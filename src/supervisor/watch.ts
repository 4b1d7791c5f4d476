/**
 * Watching one launch of codex: bind its session (find the rollout file), tail it, and turn what it
 * says into machine events — task_started / task_complete / turn_aborted for turn boundaries, a
 * task_complete with codex_error_info usage_limit_exceeded for "the account is out", token_count
 * rate_limits for live quota (free, docs/decisions.md decision 4a). Every quota observation is
 * recorded in the pool so other sessions and `status` see it. A timer also re-checks the account's
 * /wham/usage every quotaPollSeconds in case no turn reports it (4b).
 *
 * A resumed codex appends to the session's existing rollout (docs/codex-cli.md §3): its tail starts
 * at the file's size taken *before* the spawn (`from`), so nothing the new codex writes early is
 * skipped and nothing of earlier launches is read again. A launch that carries a continuation
 * prompt expects the turn to start within `expectTurnWithinMs`; if no task_started has been
 * written by then (read once more at the deadline), `continuationMissed` is reported.
 *
 * Cost stays flat: binding (bind.ts) reads the child's open files or lists at most four date
 * folders per poll, a resumed session is looked up once by id, and the tail reads only appended
 * bytes. Once bound, a change notification on the rollout (file-changes.ts) wakes the tail at
 * once, so the end of a turn is seen as it is written (an exec limit is then acted on before codex
 * has exited); the poll stays as the fallback where notifications are missing. Quota readings are
 * stored once settled (quota-settle.ts).
 */
import fsp from "node:fs/promises";
import type { RolloutEvent, RolloutRateLimits } from "../codex/rollout-events.js";
import { RolloutTail } from "../codex/rollout-tail.js";
import type { Clock, Timer } from "../platform/clock.js";
import type { QuotaSnapshot } from "../pool/schema.js";
import { QuotaParseError } from "../quota/fields.js";
import { parseTokenCountRateLimits } from "../quota/parse-rate-limits.js";
import { bindRollout, findExitedRollout } from "./bind.js";
import { watchChanges } from "./file-changes.js";
import type { AccountRef, Mode } from "./machine.js";
import { QUOTA_SETTLE_MS, SettlingReading } from "./quota-settle.js";
import type { SwitchEvent } from "./session-ports.js";

/** What a watcher reports (the switching port forwards it as its own events). */
export type WatchEvent = Extract<
  SwitchEvent,
  { type: "bound" | "turnStarted" | "turnEnded" | "pressure" | "continuationMissed" }
>;

export interface WatchRequest {
  readonly account: AccountRef;
  readonly sessionId: string | null;
  readonly launchedAt: number;
  /** The child's pid (codex itself, or a wrapper that execs it in place). */
  readonly pid: number | null;
  /**
   * Where this launch's lines start in the rollout: the byte size taken before the spawn (0 for a
   * new session). "end": unknown (the file was not found before the spawn), so whatever it holds
   * once bound belongs to earlier launches.
   */
  readonly from: number | "end";
  /** A continuation was sent: its turn must start within this time (null: nothing expected). */
  readonly expectTurnWithinMs: number | null;
}

export interface Watcher {
  /** Reads what the rollout still holds (called once the child exited), then stops. */
  drain(): Promise<void>;
  stop(): Promise<void>;
}

export interface WatchDeps {
  readonly clock: Clock;
  readonly sessionsDir: string;
  readonly cwd: string;
  readonly mode: Mode;
  readonly bindTimeoutMs: number;
  /** How often the tail looks for new lines. */
  readonly tailPollMs?: number;
  readonly quotaPollMs: number;
  /** How long a rollout quota reading waits for a later one before it is stored. */
  readonly quotaSettleMs?: number;
  /** Stores a quota observation of an account and returns the pressure it puts on it. */
  observe(accountId: string, snapshot: QuotaSnapshot): Promise<WatchEvent | null>;
  /** Probes the account's /wham/usage (never spending its refresh token; codex owns it). */
  probe(accountId: string, signal: AbortSignal): Promise<QuotaSnapshot | null>;
  onError(error: unknown): void;
  /** Session ids other live supervised sessions are bound to (never ours to bind). */
  otherSessions(): Promise<ReadonlySet<string>>;
  /** The rollout file of the session, once known (kept across launches). */
  knownFile: { current: string | null };
}

/**
 * A token_count's rate_limits as a pool snapshot (source "rollout"), read by the one parser of that
 * format; null without a reading. A reading that does not parse is dropped: it loses nothing (the
 * next one, or a probe, says the same), and must not stop the watch.
 */
export function snapshotFromRollout(
  limits: RolloutRateLimits,
  observedAt: Date,
  limitReached = false,
): QuotaSnapshot | null {
  try {
    return parseTokenCountRateLimits(limits, observedAt, limitReached);
  } catch (error) {
    if (error instanceof QuotaParseError) return null;
    throw error;
  }
}

export function startWatch(
  deps: WatchDeps,
  req: WatchRequest,
  emit: (e: WatchEvent) => void,
): Watcher {
  const stop = new AbortController();
  const tailPollMs = deps.tailPollMs ?? 200;
  let tail: RolloutTail | null = null;
  let lastRateLimits: RolloutRateLimits | null = null;
  const accountId = req.account.id;
  /** A task_started of this launch was read (the continuation, if one was sent, was taken). */
  let turnSeen = false;
  let expectation: Timer | null = null;

  const observe = async (snapshot: QuotaSnapshot | null): Promise<void> => {
    if (snapshot === null) return;
    const event = await deps.observe(accountId, snapshot);
    if (event !== null) emit(event);
  };

  // A turn's rate limits are stored at most once per settle period, the latest reading winning
  // (quota-settle.ts); a limit is stored at once (see handle).
  const settling = new SettlingReading<QuotaSnapshot | null>(
    deps.clock,
    deps.quotaSettleMs ?? QUOTA_SETTLE_MS,
    (snapshot) => {
      observe(snapshot).catch((error: unknown) => deps.onError(error));
    },
  );
  /** Drops the waiting reading (superseded), returning it. */
  const takeSettling = (): QuotaSnapshot | null => settling.take()?.value ?? null;

  /** `observeQuota`: false for a token_count a later event of the same read supersedes. */
  const handle = async (event: RolloutEvent, observeQuota: boolean): Promise<void> => {
    const now = new Date(deps.clock.now());
    switch (event.type) {
      case "task_started":
        turnSeen = true;
        expectation?.cancel();
        emit({ type: "turnStarted" });
        return;
      case "task_complete": {
        const limitHit = event.error?.codexErrorInfo === "usage_limit_exceeded";
        if (limitHit && lastRateLimits !== null) {
          takeSettling();
          await observe(snapshotFromRollout(lastRateLimits, now, true));
        }
        emit({ type: "turnEnded", limitHit });
        return;
      }
      case "turn_aborted":
        emit({ type: "turnEnded", limitHit: false });
        return;
      case "token_count":
        if (event.rateLimits !== null) {
          lastRateLimits = event.rateLimits;
          if (observeQuota) settling.offer(snapshotFromRollout(event.rateLimits, now));
        }
        return;
      case "session_meta":
      case "error":
        return;
    }
  };

  // One read at a time: the tail loop, the continuation's deadline and the drain all read.
  let reading: Promise<void> = Promise.resolve();
  const readTail = (): Promise<void> => {
    const run = async (): Promise<void> => {
      if (tail === null) return;
      const events = await tail.read();
      // Lines read together were observed together: only the last quota reading among them is
      // stored (each is a pool transaction, and the drain after a limit holds up the switch).
      const last = events.findLastIndex(
        (e) =>
          (e.type === "token_count" && e.rateLimits !== null) ||
          (e.type === "task_complete" && e.error?.codexErrorInfo === "usage_limit_exceeded"),
      );
      for (const [i, event] of events.entries()) await handle(event, i >= last);
    };
    reading = reading.then(run, run);
    return reading;
  };

  // The continuation's turn must start within its bound; the file is read once more at the
  // deadline so a turn written just before it is not missed.
  if (req.expectTurnWithinMs !== null) {
    expectation = deps.clock.setTimer(() => {
      expectation = null;
      if (stop.signal.aborted || turnSeen) return;
      readTail()
        .catch((error: unknown) => deps.onError(error))
        .finally(() => {
          if (!turnSeen && !stop.signal.aborted) emit({ type: "continuationMissed" });
        });
    }, req.expectTurnWithinMs);
  }

  const originator = deps.mode === "exec" ? "codex_exec" : "codex-tui";
  const bindRequest = {
    sessionsDir: deps.sessionsDir,
    launchedAt: req.launchedAt,
    cwd: deps.cwd,
    originator,
    clock: deps.clock,
    otherSessions: () => deps.otherSessions(),
  } as const;
  const bind = async (): Promise<string | null> => {
    const bound = await bindRollout({
      ...bindRequest,
      sessionId: req.sessionId,
      knownFile: deps.knownFile.current,
      pid: req.pid,
      bindTimeoutMs: deps.bindTimeoutMs,
      signal: stop.signal,
    });
    if (bound === null) return null;
    if (req.sessionId === null) emit({ type: "bound", sessionId: bound.sessionId });
    return bound.file;
  };

  const tailLoop = async (): Promise<void> => {
    const file = await bind();
    if (file === null) return;
    deps.knownFile.current = file;
    // Earlier launches' lines are history: without a size from before the spawn, start at the
    // end of the file as it is now.
    const from = req.from === "end" ? (await fsp.stat(file)).size : req.from;
    tail = new RolloutTail(file, { from });
    const changes = watchChanges(file, deps.clock);
    try {
      while (!stop.signal.aborted) {
        await readTail();
        await changes.next(tailPollMs, stop.signal);
      }
    } finally {
      changes.close();
    }
  };

  const quotaLoop = async (): Promise<void> => {
    for (;;) {
      await deps.clock.sleep(deps.quotaPollMs, stop.signal);
      await observe(await deps.probe(accountId, stop.signal));
    }
  };

  const swallowAbort = (error: unknown): void => {
    if (!stop.signal.aborted) deps.onError(error);
  };
  const tailDone = tailLoop().catch(swallowAbort);
  const quotaDone = quotaLoop().catch(swallowAbort);

  const stopWatching = (): void => {
    stop.abort();
    expectation?.cancel();
    expectation = null;
  };

  return {
    async drain() {
      stopWatching();
      await Promise.all([tailDone, quotaDone]);
      // After the child exited: the last lines (the failed turn) are in the file now.
      if (tail === null && req.sessionId === null && deps.mode === "exec") {
        const found = await findExitedRollout(bindRequest);
        if (found !== null) {
          emit({ type: "bound", sessionId: found.sessionId });
          deps.knownFile.current = found.file;
          tail = new RolloutTail(found.file);
        }
      }
      await readTail().catch((error: unknown) => deps.onError(error));
      await observe(takeSettling()).catch((error: unknown) => deps.onError(error));
    },
    async stop() {
      stopWatching();
      await Promise.all([tailDone, quotaDone]);
      await observe(takeSettling()).catch((error: unknown) => deps.onError(error));
    },
  };
}
