/**
 * Every answer shape of docs/chatgpt-backend.md §3.1–§3.4, one fixture each (test/fixtures/
 * real-shapes.ts), and what a user must see from it: the account's state, until when, what blocks
 * it, which windows and allowances exist — through the same parsers and the same verdict that
 * selection, the supervisor and `status` use.
 */
import { describe, expect, it } from "vitest";
import { parseRolloutLine } from "../../src/codex/rollout-events.js";
import { NeedsLoginError, TransientError } from "../../src/platform/errors.js";
import type { Account, QuotaSnapshot } from "../../src/pool/schema.js";
import { QuotaSnapshotSchema } from "../../src/pool/schema.js";
import { selectAccounts } from "../../src/pool/select.js";
import { accountQuotaStatus } from "../../src/quota/account-status.js";
import { parseRateLimitHeaders } from "../../src/quota/parse-headers.js";
import { parseTokenCountRateLimits } from "../../src/quota/parse-rate-limits.js";
import {
  classifyErrorFrame,
  classifyServiceError,
  classifyStreamFailure,
  delayFromMessage,
} from "../../src/quota/parse-service-error.js";
import { parseUsageBody } from "../../src/quota/parse-usage.js";
import { refreshGrant } from "../../src/auth/token-client.js";
import { pressureOf } from "../../src/supervisor/pressure.js";
import * as shapes from "../fixtures/real-shapes.js";
import { makeAccount } from "../helpers/account-fixture.js";

const NOW = new Date("2026-11-24T10:00:00.000Z");
const NOW_S = NOW.getTime() / 1000;
const FLOORS = { fiveHour: 5, weekly: 5 };
const iso = (s: number): string => new Date(s * 1000).toISOString();

function account(quota: QuotaSnapshot | null, extra: Partial<Account> = {}): Account {
  return makeAccount({ quota, now: NOW, plan: null, ...extra });
}

/** What `status` shows for a snapshot, in the words a user reads. */
function seen(snapshot: QuotaSnapshot) {
  // Every snapshot must also survive the pool file's own validation.
  expect(QuotaSnapshotSchema.parse(JSON.parse(JSON.stringify(snapshot)))).toEqual(snapshot);
  const status = accountQuotaStatus(account(snapshot), NOW, FLOORS);
  return {
    state: status.state,
    until: status.until?.toISOString() ?? null,
    blockedBy: status.blockedBy,
    bottleneck: status.bottleneck?.label ?? null,
    windows: snapshot.windows.map((w) => `${w.kind} ${w.usedPercent}%`),
    allowances: (snapshot.allowances ?? []).map((a) => `${a.kind}${a.reached ? " reached" : ""}`),
    side: (snapshot.sideLimits ?? []).map((s) => `${s.scope}:${s.name ?? s.feature ?? "?"}`),
  };
}

describe("§3.1 /wham/usage", () => {
  it("inexact lengths (17940 s, 604740 s) are the 5-hour and weekly windows", () => {
    expect(seen(parseUsageBody(shapes.proInexactLengths(NOW_S), NOW))).toEqual({
      state: "ok",
      until: null,
      blockedBy: null,
      bottleneck: "5h",
      windows: ["5h 42.5%", "weekly 10%"],
      allowances: [],
      side: [],
    });
  });

  it("a weekly-only plan has one weekly window and no 5-hour one", () => {
    const snap = parseUsageBody(shapes.weeklyOnly(NOW_S), NOW);
    expect(seen(snap)).toMatchObject({
      state: "ok",
      bottleneck: "weekly",
      windows: ["weekly 40%"],
    });
    expect(snap.windows[0]?.resetsAt).toBe(iso(NOW_S + 4 * 86_400));
    // Its floor is the long one: 4 % left is at the weekly floor of 5.
    const low = parseUsageBody(shapes.weeklyOnly(NOW_S, 96), NOW);
    expect(seen(low)).toMatchObject({ state: "low", blockedBy: "weekly" });
  });

  it("a free plan's 30-day window is its own kind, judged with the long floor", () => {
    const snap = parseUsageBody(shapes.freeMonthly(NOW_S), NOW);
    expect(seen(snap)).toMatchObject({ state: "ok", bottleneck: "30d", windows: ["30d 20%"] });
    const strictWeekly = account(snap, { floors: { weekly: 85 } });
    expect(accountQuotaStatus(strictWeekly, NOW, FLOORS).state).toBe("low");
  });

  it("allowed:true with limit_reached:true and the week used up: out until the weekly reset", () => {
    const snap = parseUsageBody(shapes.allowedButReached(NOW_S), NOW);
    expect(seen(snap)).toEqual({
      state: "exhausted",
      until: iso(NOW_S + 2 * 86_400),
      blockedBy: "weekly",
      bottleneck: "weekly",
      windows: ["5h 0%", "weekly 100%"],
      allowances: [],
      side: [],
    });
  });

  it("a business seat over its spend cap is out until the cap resets, and says so", () => {
    const snap = parseUsageBody(shapes.spendCapped(NOW_S), NOW);
    expect(seen(snap)).toEqual({
      state: "exhausted",
      until: iso(NOW_S + 9 * 86_400),
      blockedBy: "spend cap",
      bottleneck: "spend cap",
      windows: [],
      allowances: ["spend-cap reached"],
      side: [],
    });
    expect(snap.allowances?.[0]).toMatchObject({ usedPercent: 259, limit: 700, used: 1811.9612 });
    expect(snap.reachedType).toBe("workspace_member_usage_limit_reached");
    const sel = selectAccounts([account(snap)], { floors: FLOORS, now: NOW });
    expect(sel.chosen).toBeNull();
    expect(sel.skipped[0]?.reason).toMatchObject({
      code: "exhausted",
      message: "spend cap reached",
    });
    expect(
      pressureOf(
        snap,
        { floors: {} },
        { rotateAt5h: 5, rotateAtWeekly: 5, prewarmMargin: 10 },
        NOW,
      ),
    ).toBe("floor");
  });

  it("an enterprise seat with only a credit allowance (resets_at) is healthy at 92 % left", () => {
    const snap = parseUsageBody(shapes.enterpriseCredits(NOW_S), NOW);
    expect(seen(snap)).toEqual({
      state: "ok",
      until: null,
      blockedBy: null,
      bottleneck: "credit limit",
      windows: [],
      allowances: ["credit-limit"],
      side: [],
    });
    expect(snap.allowances?.[0]).toMatchObject({
      limit: 100000,
      used: 7761,
      resetsAt: iso(NOW_S + 20 * 86_400),
    });
    expect(snap.allowances?.[0]?.usedPercent).toBeCloseTo(7.761, 3);
    expect(
      selectAccounts([account(snap)], { floors: FLOORS, now: NOW }).ranked[0]?.leftPercent,
    ).toBeCloseTo(92.239, 3);
  });

  it("per-model and code-review limits are kept but never block ordinary turns", () => {
    const snap = parseUsageBody(shapes.sideLimitsAndExtras(NOW_S), NOW);
    expect(seen(snap)).toMatchObject({
      state: "ok",
      bottleneck: "5h",
      windows: ["5h 30%", "weekly 5%"],
      side: ["code-review:?", "model:GPT-5.3-Codex-Spark", "model:GPT-6-Luna"],
    });
    expect(snap.plan).toBe("quorum_2027");
    expect(snap.windows[0]?.resetsAt).toBe(iso(NOW_S + 3600));
    const spark = snap.sideLimits?.find((s) => s.name === "GPT-5.3-Codex-Spark");
    expect(spark).toMatchObject({ feature: "codex_bengalfox", limitReached: true });
    expect(spark?.windows[0]).toMatchObject({ kind: "5h", usedPercent: 100 });
    expect(selectAccounts([account(snap)], { floors: FLOORS, now: NOW }).chosen).not.toBeNull();
    expect(
      pressureOf(
        snap,
        { floors: {} },
        { rotateAt5h: 5, rotateAtWeekly: 5, prewarmMargin: 10 },
        NOW,
      ),
    ).toBe("ok");
  });
});

describe("§3.2 response headers", () => {
  it("a free-plan 429's headers: the zero-length secondary is no window, not an error", () => {
    const snap = parseRateLimitHeaders(shapes.freePlan429Headers(NOW_S), NOW)!;
    expect(seen(snap)).toMatchObject({
      state: "exhausted",
      until: iso(NOW_S + 3 * 86_400),
      blockedBy: "weekly",
      windows: ["weekly 100%"],
    });
    expect(snap.plan).toBe("free");
  });

  it("families: a per-model family is a side limit; codex-secondary is not the secondary window", () => {
    const snap = parseRateLimitHeaders(shapes.familyHeaders(NOW_S), NOW)!;
    expect(seen(snap)).toMatchObject({
      state: "ok",
      windows: ["5h 12%", "weekly 50%"],
      side: ["model:GPT-5.3-Codex-Spark", "model:codex-secondary"],
    });
    // reset-after-seconds is sent by the service and wins over reset-at.
    expect(snap.windows[0]?.resetsAt).toBe(iso(NOW_S + 3600));
    expect(snap.sideLimits?.[1]?.windows[0]?.usedPercent).toBe(77);
  });
});

describe("§3.3 errors", () => {
  it("a usage-limit 429: out until the later of resets_at and resets_in_seconds", () => {
    const e = classifyServiceError(429, shapes.usageLimitBody(NOW_S), NOW);
    expect(e.kind).toBe("usage-limit");
    if (e.kind !== "usage-limit") return;
    expect(e.hit.message).toContain("hit your usage limit");
    expect(seen(e.hit.snapshot)).toMatchObject({ state: "exhausted", until: iso(NOW_S + 7230) });
  });

  it("the same over the WebSocket (status_code) carries the headers' windows", () => {
    const e = classifyErrorFrame(shapes.usageLimitFrame(NOW_S), NOW);
    expect(e?.kind).toBe("usage-limit");
    if (e?.kind !== "usage-limit") return;
    expect(e.hit.snapshot.windows.map((w) => w.kind)).toEqual(["weekly"]);
  });

  it("inside an SSE stream with only resets_in_seconds", () => {
    const e = classifyStreamFailure(shapes.usageLimitStreamFailure(), NOW);
    expect(e?.kind).toBe("usage-limit");
    if (e?.kind !== "usage-limit") return;
    expect(e.hit.resetsAt?.toISOString()).toBe(iso(NOW_S + 600));
  });

  it("usage_not_included is permanent for the account: never chosen, never waited for", () => {
    const e = classifyServiceError(429, shapes.usageNotIncludedBody(), NOW);
    expect(e).toMatchObject({ kind: "not-included", plan: "free" });
    expect(
      classifyErrorFrame(
        { type: "error", status: 429, error: shapes.usageNotIncludedBody()["error"] },
        NOW,
      )?.kind,
    ).toBe("not-included");
    const none = account(null, {
      notIncluded: [{ model: null, at: NOW.toISOString(), message: null }],
    });
    const sel = selectAccounts([none], { floors: FLOORS, now: NOW });
    expect(sel.chosen).toBeNull();
    expect(sel.skipped[0]?.reason).toMatchObject({ code: "not-included", availableAt: null });
    expect(sel.earliestReset).toBeNull();
    expect(accountQuotaStatus(none, NOW, FLOORS).state).toBe("not-included");
    // For one model only: other models still run on it.
    const spark = account(null, {
      notIncluded: [{ model: "gpt-5.3-codex-spark", at: NOW.toISOString(), message: null }],
    });
    expect(
      selectAccounts([spark], { floors: FLOORS, now: NOW, model: "GPT-5.3-Codex-Spark" }).chosen,
    ).toBeNull();
    expect(
      selectAccounts([spark], { floors: FLOORS, now: NOW, model: "gpt-5.5" }).chosen,
    ).not.toBeNull();
  });

  it("rate_limit_exceeded is a short throttle whose delay is in the message", () => {
    const e = classifyServiceError(429, shapes.rateLimitExceededBody(), NOW);
    expect(e).toMatchObject({ kind: "throttled", retryAfterMs: 11054 });
    expect(delayFromMessage("Please try again in 1m30s.")).toBe(90_000);
    expect(delayFromMessage("try again in 20ms")).toBe(20);
    expect(delayFromMessage("no delay here")).toBeNull();
  });

  it("token_invalidated is a dead login; a bare 401 with token_expired in x-error-json is not", () => {
    expect(classifyServiceError(401, shapes.tokenInvalidatedBody(), NOW)).toEqual({
      kind: "login-dead",
      code: "token_invalidated",
    });
    const { body, headers } = shapes.modelsUnauthorized();
    expect(classifyServiceError(401, body, NOW, headers)).toEqual({
      kind: "unauthorized",
      code: "token_expired",
    });
  });

  it.each([
    "refresh_token_reused",
    "refresh_token_expired",
    "refresh_token_invalidated",
    "token_expired",
    "invalid_grant",
  ])("an OAuth refresh failure %s (401 or 400) needs a new login", async (code) => {
    for (const status of [401, 400]) {
      // The sign-in service is outside the machine: a fetch answering its documented body.
      const fetchStub = (() =>
        Promise.resolve(
          new Response(JSON.stringify(shapes.oauthFailure(code)), { status }),
        )) as typeof fetch;
      const error = await refreshGrant("rt", {
        authUrl: "http://127.0.0.1:9",
        fetch: fetchStub,
      }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(NeedsLoginError);
      expect((error as NeedsLoginError).reason).toBe(code);
    }
  });

  it("an OAuth 400 with another code is transient", async () => {
    const fetchStub = (() =>
      Promise.resolve(
        new Response(JSON.stringify(shapes.oauthFailure("temporarily_unavailable")), {
          status: 400,
        }),
      )) as typeof fetch;
    const error = await refreshGrant("rt", {
      authUrl: "http://127.0.0.1:9",
      fetch: fetchStub,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransientError);
  });
});

describe("§3.4 rollout files of other codex versions", () => {
  it("rate_limits null, or only credits, is no reading (not 0 % used)", () => {
    const [nullLine, creditsLine] = shapes.rolloutLines(NOW_S);
    expect(parseRolloutLine(nullLine!)).toEqual({ type: "token_count", rateLimits: null });
    const credits = parseRolloutLine(creditsLine!);
    expect(credits?.type).toBe("token_count");
    if (credits?.type !== "token_count") return;
    expect(parseTokenCountRateLimits(credits.rateLimits, NOW)).toBeNull();
    expect(parseTokenCountRateLimits(null, NOW)).toBeNull();
  });

  it("limit_id, a null plan, spend_control_reached and an object reached-type are read", () => {
    const snap = parseTokenCountRateLimits(shapes.rolloutRateLimits(NOW_S), NOW)!;
    expect(snap.plan).toBeNull();
    expect(seen(snap)).toMatchObject({
      state: "exhausted",
      until: null, // a spend cap's reset is not in the rollout: a probe says when
      blockedBy: "spend cap",
      windows: ["5h 64%", "weekly 12%"],
    });
    expect(snap.reachedType).toBe("workspace_member_usage_limit_reached");
  });

  it("an unused window's drifting reset and a used one's jitter change nothing a user sees", () => {
    const a = parseTokenCountRateLimits(
      {
        limit_id: "codex",
        primary: { used_percent: 0, window_minutes: 300, resets_at: NOW_S + 18000 },
        secondary: { used_percent: 30, window_minutes: 10080, resets_at: NOW_S + 86400 },
      },
      NOW,
    )!;
    const later = new Date(NOW.getTime() + 7000);
    const b = parseTokenCountRateLimits(
      {
        limit_id: "codex",
        primary: { used_percent: 0, window_minutes: 300, resets_at: NOW_S + 7 + 18000 },
        secondary: { used_percent: 30, window_minutes: 10080, resets_at: NOW_S + 86401 },
      },
      later,
    )!;
    const view = (s: QuotaSnapshot, at: Date) => {
      const st = accountQuotaStatus(account(s), at, FLOORS);
      return [st.state, st.bottleneck?.label, st.bottleneck?.left];
    };
    expect(view(b, later)).toEqual(view(a, NOW));
  });

  it("a failed turn is matched on codex_error_info, never on its wording", () => {
    const [, , limited, overloaded] = shapes.rolloutLines(NOW_S);
    expect(parseRolloutLine(limited!)).toMatchObject({
      type: "task_complete",
      error: { codexErrorInfo: "usage_limit_exceeded" },
    });
    expect(parseRolloutLine(overloaded!)).toMatchObject({
      type: "task_complete",
      error: { codexErrorInfo: "server_overloaded" },
    });
  });
});
