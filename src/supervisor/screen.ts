/**
 * Lines for the user are written only while codex does not own the screen. A TUI draws over the
 * whole terminal (codex 0.169 uses the alternate screen, docs/supervisor.md "terminal"), so a line
 * written meanwhile lands in the middle of its frame (docs/supervisor-rules.md O10). While a codex
 * TUI runs, lines are queued; they are written, in the order they were queued, once it has exited
 * and the terminal is ours again, and always before the next codex takes the screen.
 *
 * A line may be queued before its text is known (the switch line reads the pool): its place in
 * the order is taken at once.
 */
export interface LineSink {
  write(line: string): void;
  /** Settles once everything written so far has been handed to the OS. */
  flushed(): Promise<void>;
}

/** A line, a line still being formed, or a write that is not a line (a countdown's rewrite). */
type Item = string | Promise<string | null> | (() => void);

export class ScreenGate {
  private owned = false;
  private readonly queue: Item[] = [];
  private pumping: Promise<void> = Promise.resolve();

  private readonly sink: LineSink;

  constructor(sink: LineSink) {
    this.sink = sink;
  }

  /** Whether codex owns the screen now (lines wait). */
  get held(): boolean {
    return this.owned;
  }

  /** Queues a line (or one still being formed; null: nothing to write after all). */
  line(text: string | Promise<string | null>): void {
    this.queue.push(text);
    if (!this.owned) this.pump();
  }

  /**
   * A write that is not a line (the countdown rewriting itself), kept in order with the lines:
   * it never lands before a line queued earlier.
   */
  write(fn: () => void): void {
    this.queue.push(fn);
    if (!this.owned) this.pump();
  }

  /** Codex takes the screen: lines wait until `release`. Call only after `drain` settled. */
  own(): void {
    this.owned = true;
  }

  /** Codex left the screen: the waiting lines are written. Settles once they are out. */
  release(): Promise<void> {
    this.owned = false;
    return this.drain();
  }

  /** Settles once every line queued so far is written and flushed (they wait while owned). */
  drain(): Promise<void> {
    this.pump();
    return this.pumping;
  }

  private pump(): void {
    const run = async (): Promise<void> => {
      while (!this.owned && this.queue.length > 0) {
        const next = this.queue[0] ?? null;
        if (typeof next === "function") {
          void this.queue.shift();
          next();
          continue;
        }
        const text = await Promise.resolve(next).catch(() => null);
        // Codex may have taken the screen while the text was being formed: keep it for later.
        if (this.owned) break;
        void this.queue.shift();
        if (text !== null) this.sink.write(text);
      }
      await this.sink.flushed();
    };
    // A failed write must not stop the lines after it.
    this.pumping = this.pumping.then(run, run);
  }
}
