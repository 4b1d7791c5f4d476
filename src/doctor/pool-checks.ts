/** Doctor checks of the pool home: presence, modes, readability, format, lock, accounts' tokens. */
import fs from "node:fs/promises";
import type { Clock } from "../platform/clock.js";
import { errorMessage, hasErrorCode } from "../platform/errors.js";
import { inspectLock } from "../platform/lock.js";
import type { PoolPaths } from "../platform/paths.js";
import { accountNameAt } from "../pool/account-name.js";
import type { Pool } from "../pool/schema.js";
import type { PoolStore } from "../pool/store.js";
import { fail, ok, warn, type Finding } from "./finding.js";

async function modeOf(p: string): Promise<number | null> {
  try {
    return (await fs.stat(p)).mode & 0o777;
  } catch (error) {
    if (hasErrorCode(error, "ENOENT")) return null;
    throw error;
  }
}

const octal = (mode: number): string => mode.toString(8).padStart(4, "0");

export async function checkPoolHome(
  paths: PoolPaths,
  store: PoolStore,
  lockStaleMs: number,
  clock: Clock,
): Promise<{ findings: Finding[]; pool: Pool | null }> {
  const findings: Finding[] = [];
  const dirMode = await modeOf(paths.poolHome);
  if (dirMode === null) {
    findings.push(
      warn(
        "pool-home",
        `pool home ${paths.poolHome} does not exist yet`,
        "add an account: codex-pool login (or import)",
      ),
    );
    return { findings, pool: null };
  }
  findings.push(
    (dirMode & 0o077) === 0
      ? ok("pool-home-mode", `pool home ${paths.poolHome} is private (${octal(dirMode)})`)
      : fail(
          "pool-home-mode",
          `pool home ${paths.poolHome} is readable by others (${octal(dirMode)})`,
          `chmod 700 ${paths.poolHome}`,
        ),
  );
  for (const file of [paths.poolFile, paths.poolBackup]) {
    const mode = await modeOf(file);
    if (mode === null) continue;
    findings.push(
      (mode & 0o077) === 0
        ? ok("pool-file-mode", `${file} is private (${octal(mode)})`)
        : fail(
            "pool-file-mode",
            `${file} holds tokens but is readable by others (${octal(mode)})`,
            `chmod 600 ${file}`,
          ),
    );
  }
  let pool: Pool | null = null;
  try {
    pool = await store.read();
    findings.push(
      ok("pool-file", `pool file is readable and valid (${pool.accounts.length} account(s))`),
    );
  } catch (error) {
    findings.push(
      fail(
        "pool-file",
        "pool file cannot be used",
        `restore the backup: cp ${paths.poolBackup} ${paths.poolFile}`,
        errorMessage(error),
      ),
    );
  }
  try {
    const lock = await inspectLock(paths.poolLock, lockStaleMs, clock);
    if (lock === null) findings.push(ok("pool-lock", "pool is not locked"));
    else if (lock.stale) {
      const who = lock.owner ? `pid ${lock.owner.pid} on ${lock.owner.host}` : "an unknown owner";
      findings.push(
        fail(
          "pool-lock",
          `stale pool lock left by ${who} (${lock.reason ?? "stale"})`,
          `it is recovered by the next command; or remove it: rm ${paths.poolLock}`,
        ),
      );
    } else {
      const who = lock.owner ? `pid ${lock.owner.pid} on ${lock.owner.host}` : "another process";
      findings.push(ok("pool-lock", `pool is locked right now by ${who} (live)`));
    }
  } catch (error) {
    findings.push(
      fail("pool-lock", "pool lock cannot be read", `check ${paths.poolLock}`, errorMessage(error)),
    );
  }
  return { findings, pool };
}

export function checkAccounts(pool: Pool, clock: Clock): Finding[] {
  if (pool.accounts.length === 0) {
    return [
      warn(
        "accounts",
        "the pool has no accounts",
        "add one: codex-pool login (or codex-pool import)",
      ),
    ];
  }
  return pool.accounts.map((account, i) => {
    const name = accountNameAt(i + 1, account, { reveal: true });
    if (account.state.kind === "in-doubt") {
      return fail(
        "account-login",
        `${name}: a refresh is in doubt since ${account.state.since} (${account.state.reason}); it is not used until settled`,
        "if the machine that refreshed it comes back, its journal settles it; otherwise sign in again: codex-pool login",
      );
    }
    if (account.state.kind === "needs-login") {
      return fail(
        "account-login",
        `${name} needs login: ${account.state.reason}`,
        `sign in again with that account: codex-pool login`,
      );
    }
    const expires = account.tokens.accessTokenExpiresAt;
    const expired = expires !== null && Date.parse(expires) <= clock.now();
    return ok(
      "account-login",
      `${name} is signed in${expired ? " (access token expired; refreshed on next use)" : ""}`,
    );
  });
}
