/**
 * Changes of a shared pool reach this machine (docs/team-pool.md, "Changes across machines"):
 * LISTEN where the connection allows it, and a poll of the pool's version counter as the backstop
 * (a pooler in transaction mode swallows LISTEN; a reconnect loses what was notified meanwhile).
 */
import type { StoreSubscription } from "../store.js";
import { sql } from "./client.js";
import { CHANNEL, guarded } from "./db.js";
import { listen, type Listening } from "./listener.js";
import type { PgPoolStore } from "./pg-store.js";

export async function subscribeToChanges(
  store: PgPoolStore,
  onChange: () => void,
  options: { pollMs?: number } = {},
): Promise<StoreSubscription> {
  const { db } = await store.ready();
  const readVersion = async (): Promise<number> => {
    const [row] = await db.rows<{ v: string }>(sql`select version::text as v from codex_pool.pool`);
    return Number(row?.v ?? 0);
  };
  let last = await guarded(store.url, readVersion);
  let closed = false;
  // Nothing is told after close(), whatever was still under way then.
  const changed = (): void => {
    if (!closed) onChange();
  };
  const seen = (version: number): void => {
    if (version !== last) {
      last = version;
      changed();
    }
  };
  // A failed read loses nothing: the next poll (or the next read of the pool) sees the change.
  const check = (): Promise<void> => readVersion().then(seen, () => undefined);
  // Push where the connection allows LISTEN. Its first connection only closes the gap between
  // the version read above and the LISTEN; after a reconnect, whatever was notified meanwhile is
  // lost, so the subscriber re-reads. A pooler that swallows LISTEN is covered by the poll.
  let listening: Listening | null = null;
  try {
    listening = await listen(
      store.listenUrl ?? store.url,
      CHANNEL,
      {
        notified: (payload) => seen(Number(payload)),
        connected: (first) => {
          if (first) {
            void check();
            return;
          }
          void readVersion()
            .then(
              (version) => void (last = version),
              () => undefined,
            )
            .finally(changed);
        },
      },
      store.connectOptions(),
    );
  } catch {
    // The listen URL cannot even be parsed: the poll alone carries changes.
    listening = null;
  }
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    void check().finally(() => (busy = false));
  }, options.pollMs ?? 2000);
  timer.unref();
  return {
    close: async () => {
      closed = true;
      clearInterval(timer);
      await listening?.close();
    },
  };
}
