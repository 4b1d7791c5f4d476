/** The simulator's request log. It holds paths and outcomes only, never codes or tokens. */
import type { SimRequest } from "./types.js";

type Listener = () => void;

export class RequestLog {
  private readonly entries: SimRequest[] = [];
  private readonly listeners = new Set<Listener>();

  /** Appends an entry and returns it; a slow answer fills in its final status with update(). */
  add(entry: Omit<SimRequest, "at">): SimRequest {
    const stored: SimRequest = { at: Date.now(), ...entry };
    this.entries.push(stored);
    this.notify();
    return stored;
  }

  update(entry: SimRequest, patch: Partial<Omit<SimRequest, "at">>): void {
    Object.assign(entry, patch);
    this.notify();
  }

  all(): SimRequest[] {
    return this.entries.map(copy);
  }

  /** Resolves with the first entry (past or future) matching `predicate`; rejects after timeoutMs. */
  waitFor(predicate: (r: SimRequest) => boolean, timeoutMs: number): Promise<SimRequest> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const hit = this.entries.find((e) => predicate(copy(e)));
        if (hit === undefined) return false;
        this.listeners.delete(check);
        clearTimeout(timer);
        resolve(copy(hit));
        return true;
      };
      const timer = setTimeout(() => {
        this.listeners.delete(check);
        reject(new Error(`simulator: no matching request within ${timeoutMs} ms`));
      }, timeoutMs);
      this.listeners.add(check);
      check();
    });
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }
}

function copy(e: SimRequest): SimRequest {
  return { ...e, ...(e.userTexts ? { userTexts: [...e.userTexts] } : {}) };
}

/** The pathname of a request target, without the query string. */
export function pathOf(url: string | undefined): string {
  const raw = url ?? "/";
  const q = raw.indexOf("?");
  return q === -1 ? raw : raw.slice(0, q);
}
