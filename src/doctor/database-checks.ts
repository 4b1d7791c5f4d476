/**
 * Doctor checks of a shared pool in PostgreSQL (docs/team-pool.md): the database answers, its
 * schema is this codex-pool's (else: `codex-pool db migrate`), the data key is present and is the
 * team's (a wrong key fails the key check value, or a stored ciphertext's authentication), and no
 * refresh journal entry of this machine is waiting.
 */
import { errorMessage } from "../platform/errors.js";
import { DatabaseKeyError, KEY_ENV } from "../pool/pg/crypto.js";
import { DatabaseError, SchemaVersionError } from "../pool/pg/db.js";
import { pendingJournal } from "../pool/pg/journal.js";
import { LATEST_MIGRATION } from "../pool/pg/migrations.js";
import type { PgPoolStore } from "../pool/pg/pg-store.js";
import type { Pool } from "../pool/schema.js";
import { fail, ok, warn, type Finding } from "./finding.js";

export async function checkDatabase(
  store: PgPoolStore,
): Promise<{ findings: Finding[]; pool: Pool | null }> {
  const findings: Finding[] = [];
  let pool: Pool | null = null;
  try {
    pool = await store.read();
    findings.push(
      ok(
        "database",
        `shared pool at ${store.location}: schema ${LATEST_MIGRATION}, the key matches (${pool.accounts.length} account(s))`,
      ),
    );
  } catch (error) {
    findings.push(databaseFinding(error, store.location));
  }
  const waiting = await pendingJournal(store.paths);
  if (waiting.length > 0) {
    findings.push(
      warn(
        "database-journal",
        `${waiting.length} refresh(es) of this machine are journaled but not yet in the database`,
        "run any codex-pool command while the database is reachable (it commits them), e.g. codex-pool list",
      ),
    );
  }
  return { findings, pool };
}

function databaseFinding(error: unknown, location: string): Finding {
  if (error instanceof SchemaVersionError) {
    return fail(
      "database-schema",
      errorMessage(error),
      error.applied > LATEST_MIGRATION ? "upgrade codex-pool" : "codex-pool db migrate",
    );
  }
  if (error instanceof DatabaseKeyError) {
    return fail(
      "database-key",
      errorMessage(error),
      `set ${KEY_ENV} (or database_key_file) to the key every member of the team uses`,
    );
  }
  if (error instanceof DatabaseError) {
    return fail("database", errorMessage(error), `check database_url (${location}) and the server`);
  }
  return fail(
    "database",
    `the shared pool at ${location} cannot be read`,
    `check database_url (${location}) and that the server is up; run again with --debug for the cause`,
    errorMessage(error),
  );
}
