/**
 * The session's turns as the live port (live.ts) tells them to the state machine: from the
 * app-server's notifications (docs/codex-app-server.md §3) to `turnStarted` / `turnEnded`
 * events, in order. Only the user's turns count here: the TUI's title turn runs on an ephemeral
 * thread and is codex's own (§8).
 *
 * A turn that failed on the usage limit (its `error` notification, or its `turn/completed`
 * saying so) has its account's quota stored, marked reached. Its end is told at once, the limit
 * being stored meanwhile: the switch's selection excludes that account anyway, and one that finds
 * every account out waits for the store first (`quotaSettled`).
 */
import type { SwitchEvent } from "./session-ports.js";

export interface LiveTurnsDeps {
  /** Hands an event to the machine (nothing is handed once the port closes). */
  emit(event: SwitchEvent): void;
  /** Stores the running account's quota, marked reached; settles once stored. */
  storeLimit(): Promise<void>;
}

export class LiveTurns {
  /** Turns started and not completed. */
  private readonly running = new Set<string>();
  /** Turns that failed on the usage limit. */
  private readonly limited = new Set<string>();
  /** Limits being stored. */
  private readonly storing = new Set<Promise<void>>();
  /** Events reach the machine in order, each after what it waits for. */
  private order: Promise<void> = Promise.resolve();
  private readonly deps: LiveTurnsDeps;

  constructor(deps: LiveTurnsDeps) {
    this.deps = deps;
  }

  /** Hands `event` to the machine after every event before it. */
  inOrder(event: SwitchEvent): void {
    this.order = this.order.then(() => this.deps.emit(event));
  }

  /** Settles once every event so far has been handed over. */
  handedOver(): Promise<void> {
    return this.order;
  }

  started(turnId: string, ephemeral: boolean): void {
    if (ephemeral) return;
    this.running.add(turnId);
    this.inOrder({ type: "turnStarted" });
  }

  /** An `error` notification of a running turn. */
  errored(turnId: string, usageLimit: boolean): void {
    if (!usageLimit || this.limited.has(turnId)) return;
    this.limited.add(turnId);
    this.limitHit();
  }

  /** `turn/completed`; `usageLimit` when its error says it was refused on the limit. */
  completed(turnId: string, ephemeral: boolean, usageLimit: boolean): void {
    if (ephemeral || !this.running.delete(turnId)) return;
    const sawError = this.limited.delete(turnId);
    const hit = sawError || usageLimit;
    if (hit && !sawError) this.limitHit();
    this.inOrder({ type: "turnEnded", limitHit: hit });
  }

  /** Codex went away with turns running: they are over. Returns whether any was. */
  abandon(): boolean {
    const any = this.running.size > 0;
    this.running.clear();
    return any;
  }

  /** Settles once every limit being stored is; false when there was none. */
  async quotaSettled(): Promise<boolean> {
    if (this.storing.size === 0) return false;
    await Promise.allSettled([...this.storing]);
    return true;
  }

  private limitHit(): void {
    const stored = this.deps.storeLimit();
    this.storing.add(stored);
    void stored.finally(() => this.storing.delete(stored));
  }
}
