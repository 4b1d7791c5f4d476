/**
 * What went wrong beside the session without stopping it, reported instead of swallowed: a
 * heartbeat that could not renew our live-session entry (after five minutes other sessions take
 * our account), tokens a child rotated that could not be taken back, a file codex wrote in an
 * overlay home that lost to a newer one in the real home. Each becomes a line after codex exits
 * (the screen is ours again then) and an entry of the `--json` attribution's `warnings`.
 */
import { errorMessage } from "../platform/errors.js";

export class SessionReport {
  private readonly lines: string[] = [];
  private unreported = 0;
  private heartbeat: { failures: number; last: string } | null = null;

  /** Every warning so far, as printed (for `--json`). */
  get warnings(): readonly string[] {
    return this.lines;
  }

  add(message: string): void {
    this.lines.push(message);
  }

  /** A failed heartbeat: summed up into one line per report. */
  heartbeatFailed(error: unknown): void {
    this.heartbeat = {
      failures: (this.heartbeat?.failures ?? 0) + 1,
      last: errorMessage(error),
    };
  }

  /** The warnings not handed out yet (a heartbeat summary first becomes one). */
  take(): string[] {
    if (this.heartbeat !== null) {
      const { failures, last } = this.heartbeat;
      this.heartbeat = null;
      const times = failures === 1 ? "once" : `${failures} times`;
      this.add(
        `could not renew this session's entry in the pool ${times} (${last}); other sessions may have taken its account meanwhile`,
      );
    }
    const fresh = this.lines.slice(this.unreported);
    this.unreported = this.lines.length;
    return fresh;
  }
}
