/**
 * One "machine" of a shared pool, for the tests and the bench (docs/team-pool.md "Tests"): a
 * codex-pool process with its own pool home refreshing accounts through the real TokenRefresher
 * and the PostgreSQL refresh coordinator. The database comes from CODEX_POOL_DATABASE_URL and
 * CODEX_POOL_DATABASE_KEY.
 * argv: <poolHome> <authUrl> <options JSON: MachineOptions>
 * stdin: "go" → refresh every account at once, then one JSON line: per account, the sha256 of the
 * access token it ended with (never the token) or the error's name and reason; "quit" → exit.
 * With `stopAt`, the first time a holder reaches that protocol step the process prints
 * "stopped <step>" and stops itself (SIGSTOP), so the caller can kill or continue it there.
 */
import { createHash } from "node:crypto";
import readline from "node:readline";
import { TokenRefresher } from "../auth/refresher.js";
import { poolPaths } from "../platform/paths.js";
import { loadSettings } from "../platform/settings.js";
import { openPoolStore } from "../pool/open-store.js";
import { PgRefreshCoordinator, type ClaimStep } from "../pool/pg/pg-refresh.js";
import { PgPoolStore } from "../pool/pg/pg-store.js";
import type { MachineOptions, MachineResult } from "./pg-machines.js";
import { systemClock } from "../platform/clock.js";

const [poolHome = "", authUrl = "", optionsJson = "{}"] = process.argv.slice(2);
const options = JSON.parse(optionsJson) as MachineOptions;
const env = { ...process.env, CODEX_POOL_HOME: poolHome };
const { settings } = loadSettings({ env });
const paths = poolPaths(poolHome);
const store = openPoolStore({ settings, env, paths, clock: systemClock });
if (!(store instanceof PgPoolStore))
  throw new Error("set CODEX_POOL_DATABASE_URL: this worker runs on the shared pool");
let stopAt: ClaimStep | null = options.stopAt ?? null;
const coordinator = new PgRefreshCoordinator({
  store,
  claimTtlMs: options.claimTtlMs,
  sendTimeoutMs: options.sendTimeoutMs,
  pollMs: options.pollMs,
  waitMs: 60_000,
  onStep: (step) => {
    if (step !== stopAt) return;
    stopAt = null;
    // Stopped once the line is out; the protocol goes on only after SIGCONT.
    return new Promise<void>((resolve) => {
      process.stdout.write(`stopped ${step}\n`, () => {
        process.kill(process.pid, "SIGSTOP");
        resolve();
      });
    });
  },
});
const refresher = new TokenRefresher({
  store,
  leasesDir: paths.leasesDir,
  authUrl,
  skewSeconds: 60,
  fetch: globalThis.fetch,
  coordinator,
});

const hash = (token: string): string => createHash("sha256").update(token).digest("hex");
const rl = readline.createInterface({ input: process.stdin });
process.stdout.write("ready\n");
for await (const line of rl) {
  if (line === "quit") break;
  if (line !== "go") continue;
  const results = await Promise.all(
    options.accounts.map((id) =>
      refresher.ensureFresh(id).then(
        (account): MachineResult => ({
          account: id,
          ok: true,
          hash: hash(account.tokens.accessToken),
        }),
        (error: unknown): MachineResult => {
          const e = error as { name?: string; reason?: string };
          return { account: id, ok: false, name: e.name ?? "Error", reason: e.reason ?? null };
        },
      ),
    ),
  );
  process.stdout.write(JSON.stringify(results) + "\n");
}
rl.close();
await store.close();
