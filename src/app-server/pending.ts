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
  private closedBy: Error | null = null;

  /**
   * A fresh id and the promise of its answer. `inUse` says whether the peer has that id in flight
   * (the relay passes the TUI's open requests). Throws once the connection is closed.
   */
  open(
    method: string,
    inUse: (key: string) => boolean = () => false,
  ): { id: RequestId; answer: Promise<unknown> } {
    if (this.closedBy !== null) throw this.closedBy;
    let id = `${this.prefix}${this.next++}`;
    while (inUse(idKey(id)) || this.waiters.has(idKey(id))) id = `${this.prefix}${this.next++}`;
    const answer = new Promise<unknown>((resolve, reject) => {
      this.waiters.set(idKey(id), { method, resolve, reject });
    });
    return { id, answer };
  }

  /** True when `id` is one of ours (its answer is ours to consume, never forwarded). */
  owns(id: RequestId | null): boolean {
    return id !== null && this.waiters.has(idKey(id));
  }

  settle(id: RequestId, outcome: { result: unknown } | { error: RpcError }): void {
    const key = idKey(id);
    const waiter = this.waiters.get(key);
    if (waiter === undefined) return;
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

  get size(): number {
    return this.waiters.size;
  }
}
