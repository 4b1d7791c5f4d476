/**
 * What a supervised session tells its user, and where (docs/supervisor.md "Rules every
 * implementation keeps": lines never cover a running TUI). Every line is held while codex owns the
 * screen (screen.ts) and, in a live TUI, also shown at once among codex's own warnings; the switch
 * line, an exec's attribution (with `--json`, a record on stdout too) and the countdown of a wait
 * are the runner's `SessionOutput`; once the session is over, where it ran and what went wrong.
 * Apart from index.ts, which wires the session: this is its one voice, and everything printed goes
 * through `out` (src/cli/output.ts).
 */
import type { Writable } from "node:stream";
import type { Clock } from "../platform/clock.js";
import { PoolExhaustedError } from "../platform/errors.js";
import type { Pool } from "../pool/schema.js";
import type { PoolStore } from "../pool/store.js";
import type { Mode } from "./machine.js";
import {
  attributionJson,
  attributionLine,
  countdownLine,
  exhaustedMessage,
  formatSwitchLine,
  shortSession,
} from "./render.js";
import type { SessionReport } from "./report.js";
import { ScreenGate } from "./screen.js";
import type { SessionOutput, SessionResult } from "./session-ports.js";
import type { SessionSwitcher } from "./switcher.js";

/** How long the pool a switch's claim committed stands in for a fresh read in its switch line. */
const CLAIM_REUSE_MS = 1_000;

/** What the supervisor prints through (src/cli/output.ts Output fits). */
export interface SupervisorOutput {
  info(text: string): void;
  line(text: string): void;
  progress(text: string): void;
  clearProgress(): void;
  readonly interactive: boolean;
  /** Where info() writes, so a line can be known to be out before codex takes the terminal. */
  readonly stderr?: Pick<Writable, "write">;
  /** Where codex draws its TUI: the terminal modes it leaves on are undone there. */
  readonly stdout?: Pick<Writable, "write"> & { readonly isTTY?: boolean };
}

/** Settles once everything written to `stream` so far has been handed to the OS. */
function flushed(stream: Pick<Writable, "write"> | undefined): Promise<void> {
  if (stream === undefined) return Promise.resolve();
  return new Promise((resolve) => {
    stream.write("", () => resolve());
  });
}

/** The gate the session's lines wait behind while codex owns the screen. */
export function sessionScreen(out: SupervisorOutput): ScreenGate {
  return new ScreenGate({
    write: (line) => out.info(line),
    flushed: () => flushed(out.stderr),
  });
}

export interface SessionLinesDeps {
  readonly out: SupervisorOutput;
  readonly clock: Clock;
  readonly store: PoolStore;
  readonly screen: ScreenGate;
  readonly report: SessionReport;
  /** `exec --json`: each attribution is also a JSON record on stdout. */
  readonly json: boolean;
  /** The session's port, once the runner made it (a live TUI shows lines at once). */
  switcher(): SessionSwitcher | null;
  /** The bound session id, for the JSON attribution. */
  sessionId(): string | null;
}

export interface SessionLines {
  /** A line for the user: held while codex owns the screen, and shown in a live TUI now. */
  say(line: string | Promise<string | null>): void;
  /** The pool as a switch's claim left it (its switch line shows it unread); null: a new selection. */
  claimed(pool: Pool | null): void;
  /** The runner's lines. */
  readonly output: SessionOutput;
}

export function sessionLines(deps: SessionLinesDeps): SessionLines {
  const { out, clock, store, screen, report } = deps;
  /** The pool as a switch's claim left it, and when: its switch line shows it (no re-read). */
  let claimedPool: { pool: Pool; at: number } | null = null;
  const say = (line: string | Promise<string | null>): void => {
    screen.line(line);
    void Promise.resolve(line).then(
      (text) => {
        if (text !== null) deps.switcher()?.tell(text);
      },
      () => undefined, // the held copy says what could be said
    );
  };
  const output: SessionOutput = {
    notice: (message) => say(message),
    announceSwitch: (sessionId, from, to, cause) => {
      // A TUI's switch comes after its child stopped: a claim older than that is read again.
      const recent = claimedPool !== null && clock.now() - claimedPool.at <= CLAIM_REUSE_MS;
      const source = recent && claimedPool !== null ? claimedPool.pool : store;
      say(
        formatSwitchLine(
          source,
          clock,
          sessionId,
          from,
          to,
          cause,
          deps.switcher()?.mode() === "live",
        ).catch(() => `session ${shortSession(sessionId)} moved from ${from.label} to ${to.label}`),
      );
    },
    attribute: (account, previous, cause, code) => {
      screen.line(attributionLine(account, previous, cause, code));
      if (deps.json) {
        const sessionId = deps.sessionId();
        out.line(attributionJson(account, previous, cause, code, sessionId, report.warnings));
      }
    },
    // In line with the lines before it (the attribution of the run that hit the limit).
    countdown: (remainingMs, exhaustion) => {
      if (remainingMs === null) screen.write(() => out.clearProgress());
      else {
        const text = countdownLine(remainingMs, exhaustion, clock.now());
        screen.write(() => out.progress(text));
      }
    },
  };
  return {
    say,
    claimed: (pool) => {
      claimedPool = pool === null ? null : { pool, at: clock.now() };
    },
    output,
  };
}

export interface SessionEndDeps {
  readonly mode: Mode;
  readonly clock: Pick<Clock, "now">;
  readonly screen: ScreenGate;
  readonly report: SessionReport;
  /** The last codex ran attached to our app-server (live mode), which ends with the session. */
  readonly live: boolean;
}

/**
 * The session is over: where it ran (a TUI whose switch lines its screen hid), what the report
 * kept, all out before this returns; then its exit code, or PoolExhaustedError when every account
 * was out.
 */
export async function endOfSession(result: SessionResult, deps: SessionEndDeps): Promise<number> {
  const { screen } = deps;
  const { ctx } = result.state;
  if (deps.mode === "tui" && ctx.served.length > 1) {
    // The switch lines are hidden under the TUI's screen: say once where the session went.
    const who = ctx.sessionId !== null ? `session ${shortSession(ctx.sessionId)}` : "the session";
    screen.line(`${who} ran on ${ctx.served.map((a) => a.label).join(" → ")}`);
  }
  for (const line of deps.report.take()) screen.line(line);
  if (deps.mode === "tui" && deps.live && ctx.sessionId !== null && result.exhaustion === null) {
    // A TUI attached with --remote says on its way out how to reconnect to the app-server; that
    // one ends with this session (docs/codex-app-server.md §8), so say what does work.
    screen.line(`to go on with this session later: codex-pool run resume ${ctx.sessionId}`);
  }
  await screen.drain();
  if (result.exhaustion !== null) {
    const { message, earliest } = exhaustedMessage(
      result.exhaustion,
      deps.clock.now(),
      ctx.sessionId,
    );
    throw new PoolExhaustedError(message, earliest === null ? null : new Date(earliest));
  }
  return result.code;
}
