/**
 * Brings the pool's quota snapshots up to date for a command: probes the accounts whose snapshot
 * is older than quotaMaxAgeSeconds (all with `force`), with a progress line on a terminal. Shared
 * by `status` and `switch --best`, so both choose from the same fresh data.
 */
import { TokenRefresher } from "../auth/refresher.js";
import type { Pool } from "../pool/schema.js";
import { liveSessionAccounts, refreshHeldAccounts } from "../pool/live-sessions.js";
import { refreshQuotas, type ProbeResult } from "../quota/probe-all.js";
import type { CommandContext } from "./context.js";

export async function refreshStaleQuotas(
  ctx: CommandContext,
  options: { force: boolean; progress: boolean; before?: Pool },
): Promise<{ pool: Pool; busy: Set<string>; probed: ProbeResult[] }> {
  const { settings, store, out, clock } = ctx;
  // The pool as the command just read it, if it did: one read for the whole command.
  const before = options.before ?? (await store.read());
  // Accounts whose refresh token a live supervised codex holds (here or on another machine): it is
  // that codex's to spend (docs/decisions.md decision 3).
  const owned = refreshHeldAccounts(before, clock.now());
  const refresher = new TokenRefresher({
    store,
    leasesDir: ctx.paths.leasesDir,
    authUrl: settings.authUrl,
    skewSeconds: settings.refreshSkewSeconds,
    fetch: ctx.fetch,
    clock,
    lockStaleMs: settings.lockStaleMs,
  });
  const { pool, probed } = await refreshQuotas(
    store,
    {
      backendUrl: settings.backendUrl,
      fetch: ctx.fetch,
      tokens: refresher,
      now: () => new Date(clock.now()),
    },
    {
      force: options.force,
      maxAgeSeconds: settings.quotaMaxAgeSeconds,
      concurrency: settings.probeConcurrency,
      timeoutMs: settings.probeTimeoutMs,
      codexOwned: owned,
      before,
      onProgress: options.progress
        ? (done, total) => out.progress(`checking quota… ${done}/${total} accounts`)
        : undefined,
    },
  );
  if (options.progress) out.clearProgress();
  return { pool, busy: liveSessionAccounts(pool, clock.now()), probed };
}
