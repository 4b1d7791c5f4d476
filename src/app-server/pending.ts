/**
 * Our own requests on a connection and their answers. Shared by the client (a connection of its
 * own) and the relay (requests injected into the TUI's connection). Our ids are strings that carry
 * a random nonce per connection, so they cannot be mistaken for the TUI's (numbers, fixed names,
 * `<purpose>-<uuid>`: docs/codex-app-server.md §8); an id the peer has in flight is skipped too.
 */
import { randomBytes } from "node:crypto";
import { AppServerError, RpcCallError } from "./errors.js";
import { idKey, type RequestId, type RpcError } from "./jsonrpc.js";

interface Waiter {
  method: string;
  resolve(result: unknown): void;
  reject(error: Error): void;
}

export class PendingCalls {
  private readonly prefix = `codex-pool-${randomBytes(9).toString("base64url")}-`;
  private next = 1;
  private readonly waiters = new Map<string, Waiter>();
  /** Calls given up on (timed out): their late answers are still ours, and dropped. */
  private readonly expired = new Set<string>();
  private closedBy: Error | null = null;

  /**
   * A fresh id and the promise of its answer. `inUse` says whether the peer has that id in flight
   * (the relay passes the TUI's open requests). Throws once the connection is closed.
   */
  open(
    method: string,
    inUse: (key: string) => boolean = () => false,
    timeoutMs: number | null = null,
  ): { id: RequestId; answer: Promise<unknown> } {
    if (this.closedBy !== null) throw this.closedBy;
    let id = `${this.prefix}${this.next++}`;
    const taken = (key: string): boolean =>
      inUse(key) || this.waiters.has(key) || this.expired.has(key);
    while (taken(idKey(id))) id = `${this.prefix}${this.next++}`;
    const key = idKey(id);
    const answer = new Promise<unknown>((resolve, reject) => {
      if (timeoutMs === null) {
        this.waiters.set(key, { method, resolve, reject });
        return;
      }
      // Never waits for ever: a call the peer does not answer fails, so nothing that waits on
      // it (e.g. the client's frames held during a login) waits for ever either.
      const timer = setTimeout(() => {
        if (!this.waiters.delete(key)) return;
        this.expired.add(key);
        reject(
          new AppServerError(`the app-server did not answer ${method} within ${timeoutMs} ms`),
        );
      }, timeoutMs);
      timer.unref();
      const settled =
        <T>(fn: (value: T) => void) =>
        (value: T) => {
          clearTimeout(timer);
          fn(value);
        };
      this.waiters.set(key, { method, resolve: settled(resolve), reject: settled(reject) });
    });
    return { id, answer };
  }

  /** True when `id` is one of ours (its answer is ours to consume, never forwarded). */
  owns(id: RequestId | null): boolean {
    return id !== null && (this.waiters.has(idKey(id)) || this.expired.has(idKey(id)));
  }

  settle(id: RequestId, outcome: { result: unknown } | { error: RpcError }): void {
    const key = idKey(id);
    const waiter = this.waiters.get(key);
    if (waiter === undefined) {
      this.expired.delete(key); // a late answer to a call given up on: dropped
      return;
    }
    this.waiters.delete(key);
    if ("error" in outcome) waiter.reject(new RpcCallError(waiter.method, outcome.error));
    else waiter.resolve(outcome.result);
  }

  /** Fails every open call (the connection is gone) and every later one. */
  closeAll(reason: string): void {
    this.closedBy = new AppServerError(reason);
    for (const waiter of this.waiters.values()) waiter.reject(this.closedBy);
    this.waiters.clear();
  }
}
