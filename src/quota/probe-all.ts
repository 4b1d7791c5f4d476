/**
 * Probing many accounts: which ones need it (old snapshot, a reset time passed, the last probe
 * failed), a bounded pool of workers, and a hard per-account deadline, so one slow or dead account
 * delays the whole run by at most its timeout. The pool lock is never held across HTTP: results
 * are committed afterwards in one short transaction (commit.ts).
 */
import type { Account, Pool } from "../pool/schema.js";
import type { PoolStore } from "../pool/store.js";
import { commitProbeResults } from "./commit.js";
import { probeAccount, type ProbeDeps, type ProbeOutcome } from "./probe-account.js";
import { notIncludedFor } from "./entitlements.js";
import { hasStaleReset } from "./windows.js";

export interface ProbeResult {
  /** Our `acc_` id. */
  id: string;
  outcome: ProbeOutcome;
  durationMs: number;
}

export interface FreshnessOptions {
  maxAgeSeconds: number;
  force: boolean;
}

/** Whether this account should be probed now (by `status`, `switch --best`, a launch). */
export function needsProbe(account: Account, now: Date, options: FreshnessOptions): boolean {
  if (account.state.kind !== "ok") return false;
  // Asking again during a throttle only prolongs it (docs/chatgpt-backend.md §3.3).
  const retryAt = account.probeError?.retryAt;
  if (retryAt != null && Date.parse(retryAt) > now.getTime()) return false;
  if (options.force) return true;
  // A plan without Codex stays so: only --refresh asks again (a new plan may include it).
  if (notIncludedFor(account, null) !== null) return false;
  if (account.quota === null) return true;
  const observed = Date.parse(account.quota.observedAt);
  // The last attempt failed after the snapshot was taken: try again rather than show old data.
  if (account.probeError !== null && Date.parse(account.probeError.at) >= observed) return true;
  // A reset time has passed: the stored numbers describe a spent window (never "exhausted" on them).
  if (hasStaleReset(account.quota, now)) return true;
  return now.getTime() - observed > options.maxAgeSeconds * 1000;
}

/** Probes one account; resolves with an outcome, never rejects (ProbeDeps bound in). */
export type ProbeOne = (
  account: Account,
  codexOwned: boolean,
  signal: AbortSignal,
) => Promise<ProbeOutcome>;

export interface ProbeEachOptions {
  concurrency: number;
  timeoutMs: number;
  signal?: AbortSignal;
  /** Accounts whose refresh token a running codex owns: probed with the token in hand only. */
  codexOwned?: ReadonlySet<string>;
  onProgress?: (done: number, total: number, result: ProbeResult) => void;
}

/**
 * Runs one probe under a deadline that holds even if a step ignores its signal: the race settles
 * at the deadline and the abandoned step is aborted.
 */
async function probeWithDeadline(
  account: Account,
  probe: ProbeOne,
  now: () => Date,
  options: ProbeEachOptions,
): Promise<ProbeOutcome> {
  const controller = new AbortController();
  const onOuterAbort = (): void => controller.abort(options.signal?.reason);
  options.signal?.addEventListener("abort", onOuterAbort, { once: true });
  if (options.signal?.aborted) controller.abort(options.signal.reason);
  let timer: NodeJS.Timeout | undefined;
  const limit =
    options.timeoutMs < 1000
      ? `${options.timeoutMs}ms`
      : `${Math.round(options.timeoutMs / 1000)}s`;
  const deadline = new Promise<ProbeOutcome>((resolve) => {
    const fire = (): void =>
      resolve({
        kind: "failed",
        error: {
          at: now().toISOString(),
          kind: "timeout",
          message: `no answer in ${limit}`,
        },
      });
    timer = setTimeout(() => {
      fire();
      controller.abort(new Error("probe deadline"));
    }, options.timeoutMs);
    controller.signal.addEventListener("abort", fire, { once: true });
  });
  try {
    return await Promise.race([
      probe(account, options.codexOwned?.has(account.id) ?? false, controller.signal),
      deadline,
    ]);
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener("abort", onOuterAbort);
  }
}

/**
 * Probes `accounts` with `probe`, at most `concurrency` in flight and each within `timeoutMs`, so a
 * round costs about one probe's time however many accounts it covers; results come back in input
 * order.
 */
export async function probeEach(
  accounts: readonly Account[],
  probe: ProbeOne,
  now: () => Date,
  options: ProbeEachOptions,
): Promise<ProbeResult[]> {
  const results: ProbeResult[] = new Array<ProbeResult>(accounts.length);
  let next = 0;
  let done = 0;
  const worker = async (): Promise<void> => {
    for (;;) {
      const i = next++;
      const account = accounts[i];
      if (account === undefined) return;
      const started = performance.now();
      const outcome = await probeWithDeadline(account, probe, now, options);
      const result = { id: account.id, outcome, durationMs: performance.now() - started };
      results[i] = result;
      done += 1;
      options.onProgress?.(done, accounts.length, result);
    }
  };
  const width = Math.max(1, Math.min(options.concurrency, accounts.length));
  await Promise.all(Array.from({ length: width }, worker));
  return results;
}

/** Probes `accounts` against the usage endpoint (probeAccount), as probeEach does. */
export async function probeAccounts(
  accounts: readonly Account[],
  deps: ProbeDeps,
  options: ProbeEachOptions,
): Promise<ProbeResult[]> {
  return probeEach(
    accounts,
    (account, codexOwned, signal) => probeAccount(account, deps, { signal, codexOwned }),
    deps.now,
    options,
  );
}

export interface RefreshQuotasOptions extends ProbeEachOptions, FreshnessOptions {
  /** Only these accounts (our ids); default every account. */
  only?: ReadonlySet<string>;
  /** The pool as the caller just read it (spares a second read); default: read it here. */
  before?: Pool;
}

export interface RefreshQuotasResult {
  /** The pool as committed after the probes (what status renders). */
  pool: Pool;
  probed: ProbeResult[];
}

/** Reads the pool, probes what needs it, commits the results, and returns the updated pool. */
export async function refreshQuotas(
  store: PoolStore,
  deps: ProbeDeps,
  options: RefreshQuotasOptions,
): Promise<RefreshQuotasResult> {
  const before = options.before ?? (await store.read());
  const now = deps.now();
  const due = before.accounts.filter(
    (a) => (options.only === undefined || options.only.has(a.id)) && needsProbe(a, now, options),
  );
  if (due.length === 0) return { pool: before, probed: [] };
  const probed = await probeAccounts(due, deps, options);
  const pool = await commitProbeResults(store, probed, deps.now());
  return { pool, probed };
}
