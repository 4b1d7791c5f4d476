/**
 * The one place that decides which pool store runs (docs/decisions.md decision 12): the file
 * under the pool home, or the shared PostgreSQL pool when `database_url` is set. The data key is
 * read only when the database is first used, so commands that never touch it (and `doctor`,
 * which explains a missing key) still start.
 */
import type { Clock } from "../platform/clock.js";
import type { Env, PoolPaths } from "../platform/paths.js";
import type { Settings } from "../platform/settings-table.js";
import { FilePoolStore } from "./file-store.js";
import { FileRefreshCoordinator } from "./file-refresh.js";
import { loadDatabaseKey } from "./pg/crypto.js";
import { PgRefreshCoordinator } from "./pg/pg-refresh.js";
import { PgPoolStore } from "./pg/pg-store.js";
import type { RefreshCoordinator } from "./refresh-coordinator.js";
import type { PoolStore } from "./store.js";

export interface OpenStoreOptions {
  settings: Pick<
    Settings,
    "databaseUrl" | "databaseListenUrl" | "databaseKeyFile" | "lockWaitMs" | "lockStaleMs"
  >;
  env: Env;
  paths: PoolPaths;
  clock: Clock;
}

export function openPoolStore(options: OpenStoreOptions): PoolStore {
  const { settings, env, paths, clock } = options;
  const common = {
    paths,
    lockWaitMs: settings.lockWaitMs,
    lockStaleMs: settings.lockStaleMs,
    clock,
  };
  if (settings.databaseUrl === "") return new FilePoolStore(common);
  return new PgPoolStore({
    ...common,
    url: settings.databaseUrl,
    ...(settings.databaseListenUrl !== "" ? { listenUrl: settings.databaseListenUrl } : {}),
    key: () => loadDatabaseKey(env, settings.databaseKeyFile),
    env,
  });
}

export interface CoordinatorOptions {
  leasesDir: string;
  clock: Clock;
  lockStaleMs?: number;
  leaseWaitMs?: number;
}

/** The store's own refresh coordinator: leases for the file, claims for PostgreSQL. */
export function refreshCoordinatorFor(
  store: PoolStore,
  options: CoordinatorOptions,
): RefreshCoordinator {
  if (store instanceof PgPoolStore) {
    return new PgRefreshCoordinator({
      store,
      clock: options.clock,
      ...(options.leaseWaitMs !== undefined ? { waitMs: options.leaseWaitMs } : {}),
    });
  }
  return new FileRefreshCoordinator({
    store,
    leasesDir: options.leasesDir,
    clock: options.clock,
    ...(options.lockStaleMs !== undefined ? { lockStaleMs: options.lockStaleMs } : {}),
    ...(options.leaseWaitMs !== undefined ? { leaseWaitMs: options.leaseWaitMs } : {}),
  });
}
