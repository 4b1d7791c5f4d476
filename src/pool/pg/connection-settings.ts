/**
 * How codex-pool connects to the shared pool's database (docs/team-pool.md "The client"): the
 * client module, loaded on first use only (a file pool never pays for it), and the settings every
 * connection gets from `database_url` (or `database_listen_url`), the pool's and the listener's.
 */
import type pg from "pg";
import type * as ConnectionStrings from "pg-connection-string";
import type { Env } from "../../platform/paths.js";
import { DatabaseError, redactDatabaseUrl } from "./db.js";

/** A server that does not answer the connection within this is reported as unreachable. */
const CONNECT_TIMEOUT_MS = 10_000;
/** TCP keepalive, so a connection whose peer vanished (a laptop asleep, a NAT) is noticed. */
const KEEPALIVE_MS = 60_000;

type PgModule = typeof pg;
type UrlModule = typeof ConnectionStrings;

let loaded: Promise<{ pg: PgModule; urls: UrlModule }> | null = null;

/** Loads the client on first use (never for a file pool). */
export function loadPg(): Promise<{ pg: PgModule; urls: UrlModule }> {
  loaded ??= Promise.all([import("pg"), import("pg-connection-string")]).then(([p, urls]) => ({
    pg: p.default,
    urls,
  }));
  return loaded;
}

/**
 * The client's settings for `url`. Its `sslmode` means what it means to libpq and psql (`require`
 * encrypts without checking the certificate; `verify-full` checks it), as the URLs hosted databases
 * hand out expect (the client's own reading differs, and says so on stderr). The password is the
 * URL's, else PGPASSWORD: never ~/.pgpass, whose lookup also writes to stderr.
 */
export async function clientConfig(
  url: string,
  applicationName: string,
  env: Env = {},
): Promise<pg.ClientConfig> {
  const { urls } = await loadPg();
  const libpq = /[?&]uselibpqcompat=/i.test(url) ? {} : { useLibpqCompat: true };
  const config = urls.toClientConfig(urls.parse(url, libpq));
  const password = config.password;
  // Asked for only when the server wants one.
  const fromEnv = (): string => {
    const value = env["PGPASSWORD"];
    if (value !== undefined && value !== "") return value;
    throw new DatabaseError(
      `the pool database at ${redactDatabaseUrl(url)} asks for a password and none was given; put it in database_url (postgres://user:password@host/db) or PGPASSWORD`,
      "28P01",
    );
  };
  return {
    ...config,
    password: typeof password === "string" && password !== "" ? password : fromEnv,
    application_name: config.application_name ?? applicationName,
    keepAlive: true,
    keepAliveInitialDelayMillis: KEEPALIVE_MS,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
  };
}
