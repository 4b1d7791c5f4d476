/**
 * A throwaway PostgreSQL server for the tests and the bench (docs/team-pool.md "Tests"): `initdb`
 * into a temporary directory, `pg_ctl start` on a free loopback port with its socket in that
 * directory, and an immediate stop plus removal at the end. As root the server binaries refuse to
 * run, so they run as the `postgres` user (the directory is handed to it; its parent must be
 * traversable). `fsync=off`: the data is thrown away, and the tests measure correctness, not disks.
 */
import { execFile } from "node:child_process";
import fs from "node:fs";
import fsp from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface PgCluster extends AsyncDisposable {
  /** The server's admin URL (database `postgres`, user `postgres`, no password). */
  readonly adminUrl: string;
  readonly port: number;
  readonly binDir: string;
  /** A new empty database and its URL. */
  createDatabase(name?: string): Promise<string>;
  /** Stops the server and removes its directory. */
  stop(): Promise<void>;
}

/** Where the server binaries are: $CODEX_POOL_PG_BIN, `pg_config --bindir`, Debian's layout. */
export async function findPgBinDir(env: NodeJS.ProcessEnv = process.env): Promise<string | null> {
  const has = (dir: string): boolean => fs.existsSync(path.join(dir, "initdb"));
  const fromEnv = env["CODEX_POOL_PG_BIN"];
  if (fromEnv !== undefined && fromEnv !== "") return has(fromEnv) ? fromEnv : null;
  const debian = "/usr/lib/postgresql";
  if (fs.existsSync(debian)) {
    const versions = fs
      .readdirSync(debian)
      .filter((v) => /^\d+$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
    for (const v of versions)
      if (has(path.join(debian, v, "bin"))) return path.join(debian, v, "bin");
  }
  try {
    const { stdout } = await run("pg_config", ["--bindir"]);
    const dir = stdout.trim();
    if (has(dir)) return dir;
  } catch {
    // no pg_config: nothing else to try
  }
  return null;
}

/** A loopback port that was free a moment ago (bound to 0 by the OS, then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen({ host: "127.0.0.1", port: 0 }, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

const isRoot = (): boolean => typeof process.getuid === "function" && process.getuid() === 0;

/** Runs a server binary, as `postgres` when we are root (initdb refuses root). */
async function pgRun(binDir: string, tool: string, args: string[]): Promise<string> {
  const exe = path.join(binDir, tool);
  const [file, argv] = isRoot() ? ["runuser", ["-u", "postgres", "--", exe, ...args]] : [exe, args];
  try {
    const { stdout } = await run(file, argv, { env: { ...process.env, LC_ALL: "C" } });
    return stdout;
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    throw new Error(
      `${tool} failed: ${(e.stderr ?? e.message).trim().split("\n").slice(-3).join(" ")}`,
    );
  }
}

/** The one role of a test server that must give a password (scram-sha-256) to sign in. */
export const PASSWORD_ROLE = "codex_pool_pw";

let counter = 0;

/** Starts a server; throws with the reason when it cannot (no binaries, no postgres user). */
export async function startPgCluster(options: { binDir?: string } = {}): Promise<PgCluster> {
  const binDir = options.binDir ?? (await findPgBinDir());
  if (binDir === null) {
    throw new Error(
      "no PostgreSQL server binaries (initdb) found: install them (apt-get install postgresql) or set CODEX_POOL_PG_BIN",
    );
  }
  // /tmp is world-traversable; the cluster's own directory is the postgres user's when we are root.
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), "cp-pg-"));
  await fsp.chmod(dir, 0o755);
  if (isRoot()) await run("chown", ["postgres", dir]);
  const data = path.join(dir, "data");
  const port = await freePort();
  let started = false;
  const stop = async (): Promise<void> => {
    if (started) {
      started = false;
      await pgRun(binDir, "pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"]).catch(() => "");
    }
    await fsp.rm(dir, { recursive: true, force: true });
  };
  try {
    await pgRun(binDir, "initdb", [
      "-D",
      data,
      "-A",
      "trust",
      "-U",
      "postgres",
      "--no-sync",
      "-E",
      "UTF8",
      "--locale=C",
    ]);
    // Every role signs in without a password (trust), except one kept for the tests of how a
    // password reaches the server. The first matching line wins, so it goes first.
    const hba = path.join(data, "pg_hba.conf");
    const rules = await fsp.readFile(hba, "utf8");
    await fsp.writeFile(hba, `host all ${PASSWORD_ROLE} 127.0.0.1/32 scram-sha-256\n${rules}`);
    await pgRun(binDir, "pg_ctl", [
      "-D",
      data,
      "-l",
      path.join(dir, "server.log"),
      "-o",
      `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`,
      "-w",
      "start",
    ]);
    started = true;
  } catch (error) {
    await stop();
    throw error;
  }
  const adminUrl = `postgres://postgres@127.0.0.1:${port}/postgres`;
  return {
    adminUrl,
    port,
    binDir,
    async createDatabase(name) {
      counter += 1;
      const db = name ?? `t_${process.pid}_${counter}_${Date.now().toString(36)}`;
      await pgRun(binDir, "psql", [
        "-h",
        "127.0.0.1",
        "-p",
        String(port),
        "-U",
        "postgres",
        "-d",
        "postgres",
        "-qAt",
        "-c",
        `create database ${db}`,
      ]);
      return `postgres://postgres@127.0.0.1:${port}/${db}`;
    },
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

/** Runs a client tool of the same installation (psql, pg_dump) and returns its stdout. */
export function pgTool(
  cluster: PgCluster,
  tool: "psql" | "pg_dump",
  args: string[],
): Promise<string> {
  return pgRun(cluster.binDir, tool, [
    "-h",
    "127.0.0.1",
    "-p",
    String(cluster.port),
    "-U",
    "postgres",
    ...args,
  ]);
}
