/**
 * The live switching port's interface (live.ts), and what it needs from the supervisor
 * (index.ts): settings, codex, the pool's tokens and quota, the screen and the terminal.
 */
import type { ChildProcess } from "node:child_process";
import type { ClassifiedArgs } from "../codex/args.js";
import type { CodexBinary } from "../codex/binary.js";
import type { Clock } from "../platform/clock.js";
import type { Env } from "../platform/paths.js";
import type { Settings } from "../platform/settings-table.js";
import type { QuotaSnapshot } from "../pool/schema.js";
import type { LiveServer } from "./live-server.js";
import type { LiveTokenDeps } from "./live-tokens.js";
import type { AccountRef, Mode } from "./machine.js";
import type { SessionReport } from "./report.js";
import type { ScreenGate } from "./screen.js";
import type { StartRequest, SwitchingPort } from "./session-ports.js";
import type { TerminalControl } from "./terminal.js";
import type { WatchEvent } from "./watch.js";

export interface LiveDeps {
  readonly clock: Clock;
  readonly mode: Mode;
  readonly settings: Settings;
  readonly env: Env;
  readonly binary: CodexBinary;
  readonly args: ClassifiedArgs;
  readonly cwd: string;
  readonly homesDir: string;
  readonly pdeathWrapper: string | null;
  readonly tokens: LiveTokenDeps;
  readonly killGraceMs: number;
  readonly continuationTimeoutMs: number;
  readonly quotaPollMs: number;
  readonly refreshSkewMs: number;
  readonly screen: ScreenGate;
  /** null: no terminal to give back (exec, or not a terminal). */
  readonly terminal: TerminalControl | null;
  readonly report: SessionReport;
  /** The codex process to kill if we exit (signals.ts). */
  onChild(child: ChildProcess | null): void;
  /** Stores a quota observation of an account and returns the pressure it puts on it. */
  observe(accountId: string, snapshot: QuotaSnapshot): Promise<WatchEvent | null>;
  /** The account's /wham/usage now (the pool's tokens: the pool owns the refresh here). */
  probe(accountId: string, signal: AbortSignal): Promise<QuotaSnapshot | null>;
  /** Chooses and claims the next account when the running one can no longer sign in. */
  replacement(exclude: readonly string[], signal: AbortSignal): Promise<AccountRef | null>;
}

export interface LivePort extends SwitchingPort {
  /** Shows a line for the user among the TUI's warnings now (it is held for after, too). */
  tell(line: string): void;
  /**
   * A switch's selection names `account` as its candidate (the session is between turns): log it
   * in now, while the selection checks and claims it. The move finds it done (or, moving to
   * another account, waits for it and logs that one in). Nothing happens while a turn runs.
   */
  preLogin(account: AccountRef): void;
  /**
   * The switch's selection ended without a move (no account usable): the account the session runs
   * on is logged back in if a login ahead replaced it. Settles once done.
   */
  abandonPreLogin(): Promise<void>;
  /** Settles once every quota observation in flight is stored; false when there was none. */
  quotaSettled(): Promise<boolean>;
}

/** Live mode stopped working under a running session: resume it by relaunching with `resume`. */
export type Broken = (reason: string, resume: StartRequest) => void;

/** The codex that runs attached (the TUI, or one `exec --remote`). */
export interface LiveClient {
  readonly child: ChildProcess;
  readonly account: AccountRef;
  /** The start that made it (what a fall-back starts again when the login was refused at once). */
  readonly request: StartRequest;
  /** Its end is not reported (stopped for a fall-back, released, or closed). */
  quiet: boolean;
  /** Settles with its exit code once its end was handled (terminal, lines). */
  done: Promise<number>;
}

/** What the live port knows of its session, shared with its event handling (live-events.ts). */
export interface LiveState {
  server: LiveServer | null;
  /** Live mode cannot go on (the app-server died or refused the first login). */
  dead: boolean;
  closing: boolean;
  client: LiveClient | null;
  /** The session's thread id, once known. */
  bound: string | null;
  /** A client was ever answered by the app-server. */
  attachedOnce: boolean;
  /** A TUI started to resume the session: its continuation goes out once its thread is known. */
  pendingContinuation: string | null;
}
