/**
 * Where the database's schema stands against this codex-pool's migrations (migrations.ts), and
 * `codex-pool db migrate`, which applies the pending ones (docs/team-pool.md "Schema").
 */
import type { Db, Queryable } from "./client.js";
import { sql } from "./client.js";
import { MIGRATE_LOCK_KEY, SchemaVersionError } from "./db.js";
import { BOOKKEEPING_SQL, LATEST_MIGRATION, MIGRATIONS } from "./migrations.js";

/** The highest applied migration; 0 when the schema was never created. */
export async function appliedMigration(db: Queryable): Promise<number> {
  const [exists] = await db.rows<{ table: string | null }>(
    sql`select to_regclass('codex_pool.migrations')::text as table`,
  );
  if (!exists?.table) return 0;
  const [row] = await db.rows<{ v: number }>(
    sql`select coalesce(max(version), 0)::int as v from codex_pool.migrations`,
  );
  return row?.v ?? 0;
}

/** Fails with the fix unless the database is exactly at this codex-pool's schema. */
export async function assertMigrated(db: Queryable, where: string): Promise<void> {
  const applied = await appliedMigration(db);
  if (applied === LATEST_MIGRATION) return;
  if (applied > LATEST_MIGRATION) {
    throw new SchemaVersionError(
      `the pool database at ${where} is at schema ${applied}, newer than this codex-pool knows (${LATEST_MIGRATION}); upgrade codex-pool`,
      applied,
    );
  }
  throw new SchemaVersionError(
    applied === 0
      ? `the pool database at ${where} has no codex-pool tables yet; run codex-pool db migrate`
      : `the pool database at ${where} is at schema ${applied} of ${LATEST_MIGRATION}; run codex-pool db migrate`,
    applied,
  );
}

/**
 * Applies every pending migration in one transaction (all or none), serialised across machines by
 * an advisory lock; returns the versions it applied.
 */
export async function migrate(db: Db): Promise<number[]> {
  return db.transaction(async (tx) => {
    const applied: number[] = [];
    await tx.rows(sql`select pg_advisory_xact_lock(${MIGRATE_LOCK_KEY}::int8)`);
    await tx.script(BOOKKEEPING_SQL);
    const [row] = await tx.rows<{ v: number }>(
      sql`select coalesce(max(version), 0)::int as v from codex_pool.migrations`,
    );
    const current = row?.v ?? 0;
    if (current > LATEST_MIGRATION) {
      throw new SchemaVersionError(
        `the pool database is at schema ${current}, newer than this codex-pool knows (${LATEST_MIGRATION}); upgrade codex-pool`,
        current,
      );
    }
    for (const m of MIGRATIONS) {
      if (m.version <= current) continue;
      await tx.script(m.sql);
      await tx.count(
        sql`insert into codex_pool.migrations (version, name) values (${m.version}, ${m.name})`,
      );
      applied.push(m.version);
    }
    return applied;
  });
}
