/**
 * A supervised session's account selection (choose.ts) wired to the pool, the quota checks and
 * the switching port: the runner's `select` and `prewarm`, and the next account a live session
 * takes when its own can no longer sign in. While a switch's candidate is checked and claimed, its
 * launch is prepared (relaunch) or it is logged in ahead (live: the login is most of a live
 * switch, docs/codex-app-server.md §9). Apart from index.ts because this is what the selection
 * needs to know of the session; index.ts only composes the parts.
 */
import type { Clock } from "../platform/clock.js";
import type { Settings } from "../platform/settings-table.js";
import type { SelectionFloors } from "../pool/select.js";
import type { Pool } from "../pool/schema.js";
import type { PoolStore } from "../pool/store.js";
import { chooseAccount, reuseRecentProbes, type ChooseDeps } from "./choose.js";
import { defaultAliveCheck, type LiveSessionRecord } from "./live-sessions.js";
import type { AccountRef } from "./machine.js";
import type { SwitchMode } from "./mode.js";
import type { RelaunchPort } from "./relaunch.js";
import type { SessionPorts } from "./session-ports.js";
import type { SessionQuota } from "./session-quota.js";
import type { SessionSwitcher } from "./switcher.js";

export interface SessionSelectionDeps {
  readonly store: PoolStore;
  readonly clock: Clock;
  readonly settings: Settings;
  readonly floors: SelectionFloors;
  readonly live: LiveSessionRecord;
  /** Our id of the account pinned with --account (first launch only), or null. */
  readonly pinned: string | null;
  readonly quota: SessionQuota;
  /** How the session moves until its port says otherwise. */
  readonly initialMode: SwitchMode;
  /** The session id, bound or named on the command line. */
  sessionId(): string | null;
  /** The relaunch port, once the runner made it. */
  relaunch(): RelaunchPort | null;
  /** The session's port (live or relaunch), once the runner made it. */
  switcher(): SessionSwitcher | null;
  /** Told of the pool a switch's claim committed; null when a new selection begins. */
  claimed(pool: Pool | null): void;
}

export interface SessionSelection {
  readonly select: SessionPorts["select"];
  readonly prewarm: SessionPorts["prewarm"];
  /** Chooses and claims the next account when the running one can no longer sign in (live). */
  readonly replacement: (
    exclude: readonly string[],
    signal: AbortSignal,
  ) => Promise<AccountRef | null>;
}

export function sessionSelection(deps: SessionSelectionDeps): SessionSelection {
  const { settings, quota } = deps;
  /** Relaunch work only: a live session's next account is never written into an overlay home. */
  const relaunching = (): boolean => (deps.switcher()?.mode() ?? deps.initialMode) === "relaunch";
  const chooseDeps: ChooseDeps = {
    store: deps.store,
    clock: deps.clock,
    floors: deps.floors,
    isAlive: defaultAliveCheck,
    live: deps.live,
    pinned: deps.pinned,
    probeRound: {
      maxAgeMs: settings.quotaMaxAgeSeconds * 1000,
      concurrency: settings.probeConcurrency,
      timeoutMs: settings.probeTimeoutMs,
    },
    sessionId: () => deps.sessionId(),
    // A switch's candidate, before it is checked and claimed: its launch is prepared (relaunch),
    // or it is logged in ahead (live: the session is between turns).
    chosen: (account, owned, ref) => {
      if (relaunching()) deps.relaunch()?.prepare(account, owned);
      else deps.switcher()?.preLogin(ref);
    },
    claimed: (pool) => deps.claimed(pool),
    // One check serves a prewarm and the switch right after it (an exec limit starts both). An
    // account whose tokens could not be taken back is never refreshed (docs/supervisor.md
    // "tokens").
    probe: reuseRecentProbes(async (account, codexOwned, signal) => {
      // Tokens a child left (of this run, or of one that died) are taken back before a probe may
      // refresh the account; when they cannot be, it is probed like a codex-owned one.
      const relaunch = deps.relaunch();
      const settled = codexOwned || relaunch === null ? true : await relaunch.settleTokens(account);
      const inDoubt = relaunch?.inDoubt(account.id) === true;
      return quota.probe(account, signal, codexOwned || !settled || inDoubt);
    }, deps.clock),
  };
  /** A switch's next account: claimed for it (`commit`), or only chosen and checked (a prewarm). */
  const next = async (
    exclude: readonly string[],
    signal: AbortSignal,
    commit: boolean,
  ): Promise<AccountRef | null> => {
    const request = { exclude, preferred: null, purpose: "switch" } as const;
    const r = await chooseAccount(chooseDeps, request, signal, { commit });
    return r.kind === "selected" ? r.account : null;
  };
  return {
    select: async (request, signal) => {
      deps.claimed(null);
      let outcome = await chooseAccount(chooseDeps, request, signal);
      // Every account out: judged again once a limit live mode is storing is in (its reset
      // decides the wait). A switch that found an account never waits for that store.
      if (outcome.kind === "exhausted" && (await deps.switcher()?.quotaSettled()) === true) {
        outcome = await chooseAccount(chooseDeps, request, signal);
      }
      // No move follows: a candidate logged in ahead gives the session its account back.
      if (outcome.kind === "exhausted") await deps.switcher()?.abandonPreLogin();
      return outcome;
    },
    prewarm: (exclude, signal) => next(exclude, signal, false),
    replacement: (exclude, signal) => next(exclude, signal, true),
  };
}
