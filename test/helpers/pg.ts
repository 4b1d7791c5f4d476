/**
 * A real PostgreSQL server for one test file (src/bench/pg-cluster.ts), or null when this machine
 * cannot start one: then the file's PostgreSQL tests skip with one line saying why — except under
 * CI=true, where a missing server is a failure (.ci/run installs it).
 */
import { randomBytes } from "node:crypto";
import { afterAll } from "vitest";
import { startPgCluster, type PgCluster } from "../../src/bench/pg-cluster.js";
import { connect } from "../../src/pool/pg/client.js";
import { migrate } from "../../src/pool/pg/migrate.js";

export type { PgCluster };

export async function clusterForFile(): Promise<PgCluster | null> {
  try {
    const cluster = await startPgCluster();
    afterAll(() => cluster.stop());
    return cluster;
  } catch (error) {
    if (process.env["CI"] === "true") throw error;
    process.stderr.write(
      `skipping the PostgreSQL tests: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    return null;
  }
}

/** A new database with codex-pool's schema applied. */
export async function migratedDatabase(cluster: PgCluster): Promise<string> {
  const url = await cluster.createDatabase();
  const db = await connect(url, { max: 1 });
  try {
    await migrate(db);
  } finally {
    await db.end(1000);
  }
  return url;
}

/** A fresh data key, as a team would make one (32 random bytes, base64). */
export function newKey(): string {
  return randomBytes(32).toString("base64");
}
