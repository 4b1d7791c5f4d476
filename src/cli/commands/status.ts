/**
 * `codex-pool status [--json] [--refresh]`: probes the accounts whose quota snapshot is older than
 * quotaMaxAgeSeconds (all of them with --refresh) in parallel, bounded and with a per-account
 * timeout, then shows every account's windows, state, the machines whose sessions use it, and the
 * account selection would choose.
 */
import { selectAccounts } from "../../pool/select.js";
import { floorsFromSettings } from "../../quota/floors.js";
import { accountQuotaStatus } from "../../quota/account-status.js";
import type { CommandContext } from "../context.js";
import type { CommandInput } from "../declarations.js";
import { refreshStaleQuotas } from "../quota-refresh.js";
import { buildRows, statusJson } from "../render/status-json.js";
import { statusFooter, statusTable } from "../render/status-table.js";

export type StatusOptions = CommandInput<"status">;

export async function status(ctx: CommandContext, opts: StatusOptions): Promise<number> {
  const { settings, store, out, clock } = ctx;
  const json = opts.json === true;
  const before = await store.read();
  if (before.accounts.length === 0) {
    if (json) out.json({ accounts: [], chosen: null, earliestReset: null });
    else
      out.line(
        "No accounts in the pool yet; add one with `codex-pool login` or `codex-pool import`.",
      );
    return 0;
  }

  const { pool, busy, probed } = await refreshStaleQuotas(ctx, {
    force: opts.refresh === true,
    progress: !json,
    before,
  });

  const now = new Date(clock.now());
  const floors = floorsFromSettings(settings);
  const selection = selectAccounts(pool.accounts, { floors, now, busy });
  // Accounts whose refresh token a running codex holds were not refreshed for a check: say so.
  const skipped = new Map<string, string>();
  for (const r of probed) if (r.outcome.kind === "skipped") skipped.set(r.id, r.outcome.reason);
  const rows = buildRows(
    pool,
    selection,
    (a) => accountQuotaStatus(a, now, floors),
    now.getTime(),
    skipped,
  );
  if (json) {
    out.json(statusJson(rows, selection));
    return 0;
  }
  const paint = out.paint.bind(out);
  for (const line of statusTable(rows, now, paint)) out.line(line);
  for (const line of statusFooter(rows, selection, now, paint)) out.line(line);
  return 0;
}
