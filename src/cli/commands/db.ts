/**
 * `codex-pool db migrate|push|pull`: the shared pool's database (docs/team-pool.md).
 * - migrate: applies the schema's pending migrations (needs no data key);
 * - push: copies this machine's pool file into the database; pull: the database into the file.
 *   Both follow src/pool/merge.ts: no account is ever lost, newer tokens are never overwritten.
 */
import { ConfigError, ExitCode, UsageError } from "../../platform/errors.js";
import { FilePoolStore } from "../../pool/file-store.js";
import { mergePools, type MergeReport } from "../../pool/merge.js";
import { connect } from "../../pool/pg/client.js";
import { guarded } from "../../pool/pg/db.js";
import { appliedMigration, migrate } from "../../pool/pg/migrate.js";
import { LATEST_MIGRATION } from "../../pool/pg/migrations.js";
import { PgPoolStore } from "../../pool/pg/pg-store.js";
import type { CommandContext } from "../context.js";
import type { CommandInput } from "../declarations.js";

function database(ctx: CommandContext): PgPoolStore {
  if (!(ctx.store instanceof PgPoolStore)) {
    throw new ConfigError(
      "no shared pool is configured: set CODEX_POOL_DATABASE_URL (or database_url in config.toml) to a postgres:// URL",
    );
  }
  return ctx.store;
}

function localFile(ctx: CommandContext): FilePoolStore {
  return new FilePoolStore({
    paths: ctx.paths,
    lockWaitMs: ctx.settings.lockWaitMs,
    lockStaleMs: ctx.settings.lockStaleMs,
    clock: ctx.clock,
  });
}

function describe(report: MergeReport): string {
  return `${report.added.length} account(s) added, ${report.tokensTaken.length} with newer tokens taken, ${report.keptNewer.length} kept (the target's tokens were newer)`;
}

export async function db(ctx: CommandContext, input: CommandInput<"db">): Promise<number> {
  const store = database(ctx);
  switch (input.action) {
    case "migrate": {
      const db = await connect(store.url, { max: 1, ...store.connectOptions() });
      try {
        const before = await guarded(store.url, () => appliedMigration(db));
        const applied = await guarded(store.url, () => migrate(db));
        ctx.out.line(
          applied.length === 0
            ? `The pool database at ${store.location} is up to date (schema ${before}).`
            : `Applied migration(s) ${applied.join(", ")} to ${store.location}: now at schema ${LATEST_MIGRATION}.`,
        );
      } finally {
        await db.end(2000);
      }
      return ExitCode.ok;
    }
    case "push": {
      const source = await localFile(ctx).read();
      const report = await store.transact((pool) => mergePools(pool, source));
      ctx.out.line(`Pushed ${ctx.paths.poolFile} into ${store.location}: ${describe(report)}.`);
      return ExitCode.ok;
    }
    case "pull": {
      const source = await store.read();
      const report = await localFile(ctx).transact((pool) => mergePools(pool, source));
      ctx.out.line(`Pulled ${store.location} into ${ctx.paths.poolFile}: ${describe(report)}.`);
      return ExitCode.ok;
    }
    default: {
      // commander refuses other actions (the declaration lists the choices); kept for the types.
      const unknown: never = input.action;
      throw new UsageError(`unknown db action "${String(unknown)}": use migrate, push or pull`);
    }
  }
}
