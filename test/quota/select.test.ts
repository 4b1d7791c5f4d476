import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Account, QuotaSnapshot, QuotaWindow } from "../../src/pool/schema.js";
import { selectAccounts, selectBest } from "../../src/pool/select.js";
import { accountQuotaStatus } from "../../src/quota/account-status.js";
import { judgeQuota } from "../../src/quota/verdict.js";
import { kindOfMinutes } from "../../src/quota/window-kind.js";
import { isWindowExhaustedNow, windowLabel } from "../../src/quota/windows.js";
import { makeAccount } from "../helpers/account-fixture.js";

const NOW = new Date("2026-11-24T10:00:00.000Z");
const at = (minutes: number): string => new Date(NOW.getTime() + minutes * 60_000).toISOString();
const FLOORS = { fiveHour: 5, weekly: 5 };

function win(kind: "5h" | "weekly", used: number, resetInMin: number | null): QuotaWindow {
  return {
    kind,
    windowMinutes: kind === "5h" ? 300 : 10080,
    usedPercent: used,
    resetsAt: resetInMin === null ? null : at(resetInMin),
  };
}

function snap(windows: QuotaWindow[], extra: Partial<QuotaSnapshot> = {}): QuotaSnapshot {
  return {
    observedAt: NOW.toISOString(),
    source: "usage-api",
    plan: "plus",
    windows,
    limitReached: false,
    ...extra,
  };
}

function account(quota: QuotaSnapshot | null, extra: Partial<Account> = {}): Account {
  return makeAccount({ quota, now: NOW, ...extra });
}

describe("windows", () => {
  const verdict = (s: QuotaSnapshot, now = NOW) => judgeQuota(s, { floors: {} }, FLOORS, now);

  it("classifies by length", () => {
    expect([
      kindOfMinutes(300),
      kindOfMinutes(10080),
      kindOfMinutes(43200),
      kindOfMinutes(60),
      kindOfMinutes(null),
    ]).toEqual(["5h", "weekly", "30d", "other", "other"]);
    expect(windowLabel({ kind: "other", windowMinutes: 90 })).toBe("90m");
    expect(windowLabel({ kind: "other", windowMinutes: 2880 })).toBe("2d");
  });

  it("the bottleneck is the window with the least left", () => {
    const five = win("5h", 30, 60);
    const week = win("weekly", 90, 600);
    const neck = verdict(snap([five, week])).bottleneck;
    expect(neck?.limit).toEqual({ type: "window", window: week });
    expect(neck?.left).toBe(10);
  });

  it("a window whose reset has passed is not exhausted (stale data)", () => {
    const past = win("5h", 100, -1);
    expect(isWindowExhaustedNow(past, NOW)).toBe(false);
    expect(isWindowExhaustedNow(win("5h", 100, 10), NOW)).toBe(true);
    expect(verdict(snap([past])).blocked).toBeNull();
    const limited = snap([], { source: "429", limitReached: true, limitResetsAt: at(-5) });
    expect(verdict(limited).blocked).toBeNull();
    expect(verdict({ ...limited, limitResetsAt: at(5) }).blocked).toBe("exhausted");
  });

  it("limit_reached from the usage API lifts with the full window, not the weekly one", () => {
    const s = snap([win("5h", 100, 30), win("weekly", 40, 6000)], { limitReached: true });
    expect(verdict(s).availableAt?.toISOString()).toBe(at(30));
    expect(verdict(s, new Date(Date.parse(at(31)))).blocked).toBeNull();
  });

  it("exhausted until the latest blocking reset", () => {
    const s = snap([win("5h", 100, 30), win("weekly", 100, 600)]);
    expect(verdict(s).availableAt?.toISOString()).toBe(at(600));
  });
});

describe("selectAccounts", () => {
  it("prefers more headroom in the bottleneck window", () => {
    const a = account(snap([win("5h", 50, 60), win("weekly", 10, 600)]));
    const b = account(snap([win("5h", 10, 60), win("weekly", 80, 600)])); // bottleneck weekly 20 left
    const c = account(snap([win("5h", 20, 60), win("weekly", 20, 600)])); // 80 left
    const sel = selectAccounts([a, b, c], { floors: FLOORS, now: NOW });
    expect(sel.ranked.map((r) => r.account.id)).toEqual([c.id, a.id, b.id]);
    expect(sel.chosen?.id).toBe(c.id);
    expect(sel.ranked[2]?.bottleneck?.label).toBe("weekly");
    expect(sel.skipped).toEqual([]);
  });

  it("applies the rotate floors (at or under is not usable), with reasons", () => {
    const atFloor = account(snap([win("5h", 95, 30), win("weekly", 10, 600)]));
    const weeklyLow = account(snap([win("5h", 0, 30), win("weekly", 97, 900)]));
    const fine = account(snap([win("5h", 94, 30), win("weekly", 10, 600)])); // 6 % left
    const sel = selectAccounts([atFloor, weeklyLow, fine], { floors: FLOORS, now: NOW });
    expect(sel.chosen?.id).toBe(fine.id);
    expect(sel.skipped.map((s) => [s.account.id, s.reason.code, s.reason.window])).toEqual([
      [atFloor.id, "below-floor", "5h"],
      [weeklyLow.id, "below-floor", "weekly"],
    ]);
    expect(sel.skipped[0]?.reason.message).toBe("5h window at 5% left (floor 5%)");
    expect(sel.skipped[0]?.reason.availableAt?.toISOString()).toBe(at(30));
  });

  it("per-account floors override the pool's", () => {
    const strict = account(snap([win("5h", 70, 30)]), { floors: { fiveHour: 40 } });
    const lax = account(snap([win("5h", 98, 30)]), { floors: { fiveHour: 0 } });
    const sel = selectAccounts([strict, lax], { floors: { fiveHour: 5, weekly: 5 }, now: NOW });
    expect(sel.chosen?.id).toBe(lax.id);
    expect(sel.skipped.map((s) => s.account.id)).toEqual([strict.id]);
  });

  it("breaks ties by the sooner reset, then least recently used, then pool order", () => {
    const later = account(snap([win("5h", 50, 120)]));
    const sooner = account(snap([win("5h", 50, 30)]));
    expect(selectBest([later, sooner], { floors: FLOORS, now: NOW })?.id).toBe(sooner.id);

    const recent = account(snap([win("5h", 50, 30)]), { lastUsedAt: at(-5) });
    const old = account(snap([win("5h", 50, 30)]), { lastUsedAt: at(-500) });
    const never = account(snap([win("5h", 50, 30)]));
    const ranked = selectAccounts([recent, old, never], { floors: FLOORS, now: NOW }).ranked;
    expect(ranked.map((r) => r.account.id)).toEqual([never.id, old.id, recent.id]);

    const x = account(snap([win("5h", 50, 30)]));
    const y = account(snap([win("5h", 50, 30)]));
    expect(selectBest([x, y], { floors: FLOORS, now: NOW })?.id).toBe(x.id);
  });

  it("all exhausted: chooses nothing and returns the earliest reset", () => {
    const a = account(snap([win("5h", 100, 90), win("weekly", 40, 5000)]));
    const b = account(snap([win("5h", 100, 45), win("weekly", 100, 3000)])); // usable at +3000
    const c = account(snap([], { source: "429", limitReached: true, limitResetsAt: at(200) }));
    const d = account(null, {
      state: { kind: "needs-login", reason: "refresh_token_reused", since: at(-1) },
    });
    const sel = selectAccounts([a, b, c, d], { floors: FLOORS, now: NOW });
    expect(sel.chosen).toBeNull();
    expect(sel.ranked).toEqual([]);
    expect(sel.earliestReset?.toISOString()).toBe(at(90));
    expect(sel.skipped.map((s) => s.reason.code)).toEqual([
      "exhausted",
      "exhausted",
      "exhausted",
      "needs-login",
    ]);
    expect(sel.skipped[1]?.reason.availableAt?.toISOString()).toBe(at(3000));
    expect(sel.skipped[2]?.reason.message).toBe("usage limit reached");
  });

  it("a past reset is never treated as exhausted: the account is usable", () => {
    const stale = account(snap([win("5h", 100, -10), win("weekly", 30, 5000)]));
    const sel = selectAccounts([stale], { floors: FLOORS, now: NOW });
    expect(sel.chosen?.id).toBe(stale.id);
    expect(sel.ranked[0]?.leftPercent).toBe(70);
  });

  it("a pinned default wins while usable, and falls back (or not, when strict) otherwise", () => {
    const best = account(snap([win("5h", 0, 60)]));
    const pinned = account(snap([win("5h", 60, 60)]));
    const opts = { floors: FLOORS, now: NOW, pinned: pinned.id };
    expect(selectBest([best, pinned], opts)?.id).toBe(pinned.id);
    const spent = account(snap([win("5h", 100, 60)]));
    const fallback = selectAccounts([best, spent], { ...opts, pinned: spent.id });
    expect(fallback.chosen?.id).toBe(best.id);
    expect(fallback.skipped[0]?.account.id).toBe(spent.id);
    expect(selectBest([best, spent], { ...opts, pinned: spent.id, strictPin: true })).toBeNull();
  });

  it("excluded accounts are skipped; busy and never-checked ones come after the known-good", () => {
    const busy = account(snap([win("5h", 0, 60)]));
    const unknown = account(null);
    const ok = account(snap([win("5h", 80, 60)]));
    const gone = account(snap([win("5h", 0, 60)]));
    const sel = selectAccounts([busy, unknown, ok, gone], {
      floors: FLOORS,
      now: NOW,
      busy: [busy.id],
      exclude: new Set([gone.id]),
    });
    expect(sel.ranked.map((r) => r.account.id)).toEqual([ok.id, unknown.id, busy.id]);
    expect(sel.skipped).toMatchObject([{ account: { id: gone.id }, reason: { code: "excluded" } }]);
  });

  it("property: the chosen account is always usable and never below a floor", () => {
    const windowArb = fc.record({
      kind: fc.constantFrom("5h" as const, "weekly" as const),
      used: fc.integer({ min: 0, max: 100 }),
      reset: fc.option(fc.integer({ min: -600, max: 20000 }), { nil: null }),
    });
    fc.assert(
      fc.property(fc.array(fc.array(windowArb, { maxLength: 3 }), { maxLength: 6 }), (pool) => {
        const accounts = pool.map((ws) =>
          account(snap(ws.map((w) => win(w.kind, w.used, w.reset)))),
        );
        const sel = selectAccounts(accounts, { floors: FLOORS, now: NOW });
        expect(sel.ranked.length + sel.skipped.length).toBe(accounts.length);
        if (sel.chosen === null) return;
        for (const w of sel.chosen.quota?.windows ?? []) {
          const reset = w.resetsAt === null ? null : Date.parse(w.resetsAt);
          const stale = reset !== null && reset <= NOW.getTime();
          expect(stale || 100 - w.usedPercent > 5).toBe(true);
        }
      }),
    );
  });
});

describe("accountQuotaStatus", () => {
  it("gives ok, low, exhausted (until), needs-login, error and unknown", () => {
    const state = (a: Account): string => accountQuotaStatus(a, NOW, FLOORS).state;
    expect(state(account(snap([win("5h", 10, 60)])))).toBe("ok");
    expect(state(account(snap([win("5h", 96, 60)])))).toBe("low");
    const ex = accountQuotaStatus(account(snap([win("5h", 100, 60)])), NOW, FLOORS);
    expect([ex.state, ex.until?.toISOString()]).toEqual(["exhausted", at(60)]);
    expect(state(account(snap([win("5h", 100, -1)])))).toBe("ok");
    expect(
      state(account(null, { state: { kind: "needs-login", reason: "x", since: at(0) } })),
    ).toBe("needs-login");
    const err = accountQuotaStatus(
      account(snap([win("5h", 10, 60)]), {
        probeError: { at: at(1), kind: "timeout", message: "no answer in 8s" },
      }),
      NOW,
      FLOORS,
    );
    expect([err.state, err.detail]).toEqual(["error", "no answer in 8s"]);
    expect(state(account(null))).toBe("unknown");
  });
});
