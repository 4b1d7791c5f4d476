/**
 * A real PostgreSQL server for one test file (src/bench/pg-cluster.ts), or null when this machine
 * cannot start one: then the file's PostgreSQL tests skip with one line saying why — except under
 * CI=true, where a missing server is a failure (.ci/run installs it).
 */
import { randomBytes } from "node:crypto";
import { afterAll } from "vitest";
import { startPgCluster, type PgCluster } from "../../src/bench/pg-cluster.js";

export type { PgCluster };
export { migratedDatabase } from "../../src/bench/pg-machines.js";

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

/** A fresh data key, as a team would make one (32 random bytes, base64). */
export function newKey(): string {
  return randomBytes(32).toString("base64");
}
