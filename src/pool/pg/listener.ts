/**
 * LISTEN for the pool's change notifications on a connection of its own (docs/team-pool.md
 * "Changes across machines"): a plain client on `database_listen_url` (else `database_url`), kept
 * up by us. When it drops — the server restarted or ended it, the network went — it reconnects
 * with a growing delay (doubling up to a bound, with jitter; a connection that held for a while
 * starts it afresh) and LISTENs again. Notifications sent while it was down are never
 * replayed, so every connection after the first tells its owner to re-read everything; the version
 * poll of the subscriber stays the backstop for a pooler that accepts LISTEN and delivers nothing.
 * Its `error` events are handled (an unhandled one would end the process).
 */
import type pg from "pg";
import { clientConfig, loadPg } from "./connection-settings.js";
import type { Env } from "../../platform/paths.js";

export interface ListenHandlers {
  /** A notification on the channel, with its payload. */
  notified(payload: string): void;
  /** LISTEN is (again) in place; `first` is false after a reconnect, when changes may be lost. */
  connected(first: boolean): void;
}

export interface ListenOptions {
  env?: Env;
  /** The first reconnect's delay; each next one doubles, up to `maxDelayMs` (with jitter). */
  minDelayMs?: number;
  maxDelayMs?: number;
  now?: () => number;
}

export interface Listening {
  close(): Promise<void>;
}

/** The channel goes into the statement's text (LISTEN takes no parameters): a plain identifier. */
const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;

/**
 * Starts listening on `channel`; resolves once the first connection is up or has failed (then the
 * retries go on in the background, and `connected(true)` comes when one lands).
 */
export async function listen(
  url: string,
  channel: string,
  handlers: ListenHandlers,
  options: ListenOptions = {},
): Promise<Listening> {
  if (!IDENTIFIER.test(channel)) throw new RangeError(`not a channel name: ${channel}`);
  const { pg } = await loadPg();
  const config = await clientConfig(url, "codex-pool listen", options.env);
  const listener = new Listener(pg, config, channel, handlers, options);
  await listener.open();
  return { close: () => listener.close() };
}

class Listener {
  private client: pg.Client | null = null;
  private timer: NodeJS.Timeout | null = null;
  private failures = 0;
  /** When the current connection came up (a drop after a long life starts the delays afresh). */
  private upSince: number | null = null;
  private everConnected = false;
  private closed = false;
  private readonly minDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly now: () => number;
  private readonly pg: typeof pg;
  private readonly config: pg.ClientConfig;
  private readonly channel: string;
  private readonly handlers: ListenHandlers;

  constructor(
    client: typeof pg,
    config: pg.ClientConfig,
    channel: string,
    handlers: ListenHandlers,
    options: ListenOptions,
  ) {
    this.pg = client;
    this.config = config;
    this.channel = channel;
    this.handlers = handlers;
    this.minDelayMs = options.minDelayMs ?? 250;
    this.maxDelayMs = options.maxDelayMs ?? 30_000;
    this.now = options.now ?? Date.now;
  }

  /** One connection attempt; on failure (now or later) the next is scheduled. */
  async open(): Promise<void> {
    if (this.closed) return;
    const client = new this.pg.Client(this.config);
    let down = false;
    const drop = (): void => {
      if (down) return;
      down = true;
      if (this.client === client) {
        this.client = null;
        if (this.upSince !== null && this.now() - this.upSince >= this.maxDelayMs)
          this.failures = 0;
        this.upSince = null;
      }
      void client.end().catch(() => undefined);
      this.retry();
    };
    // A dead connection emits `error` (perhaps twice) and then `end`: each only leads to one retry.
    client.on("error", drop);
    client.on("end", drop);
    client.on("notification", (message) => {
      if (message.channel === this.channel) this.handlers.notified(message.payload ?? "");
    });
    try {
      await client.connect();
      await client.query(`listen ${this.channel}`);
    } catch {
      drop();
      return;
    }
    if (down) return;
    if (this.closed) {
      down = true;
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    this.upSince = this.now();
    const first = !this.everConnected;
    this.everConnected = true;
    this.handlers.connected(first);
  }

  private retry(): void {
    if (this.closed || this.timer !== null) return;
    const base = Math.min(this.maxDelayMs, this.minDelayMs * 2 ** this.failures);
    this.failures += 1;
    const delay = base * (0.5 + Math.random() / 2);
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.open();
    }, delay);
    // A retry alone does not keep the process alive (the subscriber's owner decides that).
    this.timer.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const client = this.client;
    this.client = null;
    if (client === null) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      client.end().catch(() => undefined),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, 1000);
        timer.unref();
      }),
    ]);
    clearTimeout(timer);
  }
}
