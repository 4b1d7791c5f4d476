/**
 * A pool file written before the quota model grew (windows of kinds 5h/weekly/other only, no
 * allowances, side limits or not-included verdicts, the older probe-error kinds) still reads,
 * is judged by what its windows are, and survives a write by this version unchanged in meaning.
 */
import fs from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { poolPaths } from "../../src/platform/paths.js";
import { FilePoolStore } from "../../src/pool/file-store.js";
import { selectAccounts } from "../../src/pool/select.js";
import { accountQuotaStatus } from "../../src/quota/account-status.js";
import { runCli } from "../helpers/cli.js";
import { tempHomes } from "../helpers/tmp.js";

const NOW = Date.now();
const at = (minutes: number): string => new Date(NOW + minutes * 60_000).toISOString();

/** An account row exactly as the first wave wrote it. */
function oldAccount(n: number, quota: unknown, probeError: unknown = null): unknown {
  return {
    id: `acc_old${String(n).padStart(5, "0")}`,
    accountId: `acct-${n}`,
    email: `old${n}@example.com`,
    plan: "pro",
    label: null,
    tokens: {
      accessToken: `at-${n}`,
      refreshToken: `rt-${n}`,
      idToken: "",
      accessTokenExpiresAt: null,
      lastRefreshAt: null,
    },
    addedAt: at(-10_000),
    lastUsedAt: null,
    state: { kind: "ok" },
    quota,
    probeError,
    floors: {},
  };
}

const OLD_POOL = {
  version: 1,
  defaultAccount: "acc_old00001",
  accounts: [
    // The first wave called a 299-minute and a 10079-minute window "other".
    oldAccount(1, {
      observedAt: at(-1),
      source: "usage-api",
      plan: "pro",
      windows: [
        { kind: "other", windowMinutes: 299, usedPercent: 20, resetsAt: at(100) },
        { kind: "other", windowMinutes: 10079, usedPercent: 97, resetsAt: at(5000) },
      ],
      limitReached: false,
    }),
    oldAccount(2, {
      observedAt: at(-1),
      source: "429",
      plan: "plus",
      windows: [{ kind: "5h", windowMinutes: 300, usedPercent: 100, resetsAt: at(30) }],
      limitReached: true,
      limitResetsAt: at(30),
    }),
    oldAccount(
      3,
      {
        observedAt: at(-5),
        source: "rollout",
        plan: null,
        windows: [{ kind: "weekly", windowMinutes: 10080, usedPercent: 10, resetsAt: null }],
      },
      { at: at(-1), kind: "timeout", message: "no answer in 8s" },
    ),
    oldAccount(4, null),
  ],
};

describe("a pool.json in the first wave's shape", () => {
  it("reads, re-classifies its windows by length, and is judged like a new one", async () => {
    await using homes = await tempHomes();
    const paths = poolPaths(homes.poolHome);
    await fs.mkdir(homes.poolHome, { recursive: true, mode: 0o700 });
    await fs.writeFile(paths.poolFile, JSON.stringify(OLD_POOL, null, 2), { mode: 0o600 });
    const store = new FilePoolStore({ paths, lockWaitMs: 5000, lockStaleMs: 30_000 });

    const pool = await store.read();
    expect(pool.accounts.map((a) => a.quota?.windows.map((w) => w.kind) ?? null)).toEqual([
      ["5h", "weekly"],
      ["5h"],
      ["weekly"],
      null,
    ]);
    const now = new Date(NOW);
    const floors = { fiveHour: 5, weekly: 5 };
    const states = pool.accounts.map((a) => accountQuotaStatus(a, now, floors));
    expect(states.map((s) => [s.state, s.blockedBy])).toEqual([
      ["low", "weekly"], // 3 % left in the week: the weekly floor, not the 5-hour one
      ["exhausted", "5h"],
      ["error", null],
      ["unknown", null],
    ]);
    const sel = selectAccounts(pool.accounts, { floors, now });
    expect(sel.chosen?.email).toBe("old3@example.com");

    // A write by this version keeps every row readable (and the old file is kept as the backup).
    await store.transact((p) => {
      p.accounts[0]!.lastUsedAt = now.toISOString();
    });
    const again = await store.read();
    expect(again.accounts.map((a) => a.quota?.windows.map((w) => w.kind) ?? null)).toEqual([
      ["5h", "weekly"],
      ["5h"],
      ["weekly"],
      null,
    ]);
    expect(again.accounts[1]?.quota?.limitResetsAt).toBe(at(30));

    // And the CLI shows it (no probes: nothing is due but the errored and unknown ones, which the
    // unreachable backend answers with errors without touching the rest).
    const r = await runCli(["status", "--json"], {
      env: {
        ...homes.env,
        CODEX_POOL_BACKEND_URL: "http://127.0.0.1:9/backend-api",
        CODEX_POOL_QUOTA_MAX_AGE: "86400",
      },
    });
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as {
      accounts: { state: string; windows: { kind: string; label: string }[] }[];
    };
    expect(doc.accounts[0]?.windows.map((w) => [w.kind, w.label])).toEqual([
      ["5h", "5h"],
      ["weekly", "weekly"],
    ]);
    expect(doc.accounts[0]?.state).toBe("low");
    expect(doc.accounts[1]?.state).toBe("exhausted");
  });
});
