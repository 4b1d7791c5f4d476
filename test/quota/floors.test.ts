/**
 * The one floor rule (src/quota/floors.ts) and that everyone judges with it: selection, the
 * supervisor's pressure, `status` and the exhausted countdown agree on every kind of limit.
 */
import { describe, expect, it } from "vitest";
import type { Account, Allowance, QuotaSnapshot, QuotaWindow } from "../../src/pool/schema.js";
import { maskEmail } from "../../src/pool/account-name.js";
import { selectAccounts } from "../../src/pool/select.js";
import { accountQuotaStatus } from "../../src/quota/account-status.js";
import { floorClassOf, floorFor } from "../../src/quota/floors.js";
import { makeWindow } from "../../src/quota/windows.js";
import { exhaustionOf } from "../../src/supervisor/choose.js";
import { pressureOf } from "../../src/supervisor/pressure.js";
import { describeExhaustion } from "../../src/supervisor/wait-for-reset.js";
import { makeAccount } from "../helpers/account-fixture.js";

const NOW = new Date("2026-11-24T10:00:00.000Z");
const FLOORS = { fiveHour: 10, weekly: 3 };
const SETTINGS = { rotateAt5h: 10, rotateAtWeekly: 3, prewarmMargin: 5 };
const inMin = (m: number): Date => new Date(NOW.getTime() + m * 60_000);

function win(minutes: number | null, used: number, resetMin = 60): QuotaWindow {
  return makeWindow(minutes, used, inMin(resetMin));
}

function allowance(kind: Allowance["kind"], used: number | null, reached = false): Allowance {
  return {
    kind,
    reached,
    usedPercent: used,
    limit: null,
    used: null,
    remaining: null,
    resetsAt: inMin(3 * 24 * 60).toISOString(),
  };
}

function snap(windows: QuotaWindow[], allowances: Allowance[] = []): QuotaSnapshot {
  return {
    observedAt: NOW.toISOString(),
    source: "usage-api",
    plan: "plus",
    windows,
    allowances,
    limitReached: false,
  };
}

function account(quota: QuotaSnapshot | null, floors: Account["floors"] = {}): Account {
  return makeAccount({ quota, floors, now: NOW });
}

describe("floorFor", () => {
  it("short windows (a day or less) get rotate_at_5h; longer ones and allowances rotate_at_weekly", () => {
    const cases: [QuotaWindow | Allowance, "short" | "long" | "unknown", number][] = [
      [win(300, 0), "short", 10],
      [win(299, 0), "short", 10],
      [win(90, 0), "short", 10],
      [win(1440, 0), "short", 10],
      [win(10_080, 0), "long", 3],
      [win(10_079, 0), "long", 3],
      [win(43_200, 0), "long", 3], // 30 days: like the week
      [win(2880, 0), "long", 3],
      [win(null, 0), "unknown", 10], // unknown length: the stricter of the two
      [allowance("spend-cap", 10), "long", 3],
      [allowance("credit-limit", 10), "long", 3],
    ];
    for (const [limit, cls, floor] of cases) {
      expect(floorClassOf(limit)).toBe(cls);
      expect(floorFor(limit, { floors: {} }, FLOORS)).toBe(floor);
    }
  });

  it("an account's own floors override the pool's, class by class", () => {
    const own = { floors: { weekly: 50 } };
    expect(floorFor(win(43_200, 0), own, FLOORS)).toBe(50);
    expect(floorFor(allowance("credit-limit", 0), own, FLOORS)).toBe(50);
    expect(floorFor(win(300, 0), own, FLOORS)).toBe(10);
    expect(floorFor(win(null, 0), own, FLOORS)).toBe(50);
  });
});

describe("selection, pressure, status and the countdown read the same floors", () => {
  // Each pair: a limit just above its floor (usable) and at it (not), for every kind of limit.
  const pairs: [string, QuotaSnapshot, QuotaSnapshot][] = [
    ["5h", snap([win(300, 89)]), snap([win(300, 90)])],
    ["weekly", snap([win(10_080, 96)]), snap([win(10_080, 97)])],
    ["30d", snap([win(43_200, 96)]), snap([win(43_200, 97)])],
    ["90m", snap([win(90, 89)]), snap([win(90, 90)])],
    ["2d", snap([win(2880, 96)]), snap([win(2880, 97)])],
    [
      "credit limit",
      snap([], [allowance("credit-limit", 96)]),
      snap([], [allowance("credit-limit", 97)]),
    ],
  ];

  it.each(pairs)("%s", (label, above, at) => {
    const ok = account(above);
    const low = account(at);
    const sel = selectAccounts([low, ok], { floors: FLOORS, now: NOW });
    expect(sel.chosen?.id).toBe(ok.id);
    expect(sel.skipped.map((s) => [s.reason.code, s.reason.window])).toEqual([
      ["below-floor", label],
    ]);
    expect(pressureOf(at, low, SETTINGS, NOW)).toBe("floor");
    expect(pressureOf(above, ok, SETTINGS, NOW)).toBe("near");
    expect(accountQuotaStatus(low, NOW, FLOORS)).toMatchObject({ state: "low", blockedBy: label });
    expect(accountQuotaStatus(ok, NOW, FLOORS).state).toBe("ok");
    const exhaustion = exhaustionOf(
      { version: 1, defaultAccount: null, accounts: [low], sessions: [] },
      FLOORS,
      NOW,
    );
    expect(exhaustion.resets).toEqual([
      {
        account: { id: low.id, label: `#1 ${maskEmail(low.email)}` },
        resetsAt: expect.any(Number),
        what: label,
      },
    ]);
  });

  it("a reached allowance blocks until its reset; side limits never block", () => {
    const capped = account(snap([win(300, 10)], [allowance("spend-cap", 259, true)]));
    const side: QuotaSnapshot = {
      ...snap([win(300, 10)]),
      sideLimits: [
        {
          scope: "model",
          name: "Spark",
          feature: "codex_bengalfox",
          windows: [win(300, 100)],
          limitReached: true,
        },
        {
          scope: "code-review",
          name: null,
          feature: null,
          windows: [win(10_080, 100)],
          limitReached: true,
        },
      ],
    };
    const free = account(side);
    const sel = selectAccounts([capped, free], { floors: FLOORS, now: NOW });
    expect(sel.chosen?.id).toBe(free.id);
    expect(sel.skipped[0]?.reason).toMatchObject({
      code: "exhausted",
      window: "spend cap",
      message: "spend cap reached",
    });
    expect(sel.skipped[0]?.reason.availableAt?.toISOString()).toBe(
      inMin(3 * 24 * 60).toISOString(),
    );
    expect(pressureOf(side, free, SETTINGS, NOW)).toBe("ok");
  });
});

describe("the exhausted countdown's wording", () => {
  it("names what holds each account and dates a reset a week or more away", () => {
    const now = NOW.getTime();
    const text = describeExhaustion(
      {
        resets: [
          { account: { id: "acc_a", label: "alice@…" }, resetsAt: now + 3_600_000, what: "5h" },
          {
            account: { id: "acc_b", label: "bob@…" },
            resetsAt: now + 20 * 86_400_000,
            what: "spend cap",
          },
          { account: { id: "acc_c", label: "carol@…" }, resetsAt: null, what: "30d" },
        ],
        earliest: now + 3_600_000,
      },
      now,
    );
    const far = new Date(now + 20 * 86_400_000);
    const month = far.toLocaleString("en-US", { month: "short" });
    expect(text).toMatch(
      new RegExp(
        `^every account is out: alice@… \\(5h\\) resets \\d\\d:\\d\\d, bob@… \\(spend cap\\) resets ${month} ${far.getDate()} \\d\\d:\\d\\d, carol@… \\(30d\\) \\(reset time unknown\\)$`,
      ),
    );
  });
});
