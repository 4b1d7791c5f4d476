import { describe, expect, it } from "vitest";
import { QuotaSnapshotSchema } from "../../src/pool/schema.js";
import { QuotaParseError } from "../../src/quota/fields.js";
import { parseRateLimitHeaders } from "../../src/quota/parse-headers.js";
import {
  classifyErrorFrame,
  classifyErrorText,
  classifyServiceError,
  usageLimitOf,
} from "../../src/quota/parse-service-error.js";
import {
  mergeAppServerRateLimits,
  parseAppServerRateLimits,
  parseRateLimitsEvent,
  parseTokenCountRateLimits,
} from "../../src/quota/parse-rate-limits.js";
import { parseUsageBody } from "../../src/quota/parse-usage.js";

const NOW = new Date("2026-11-24T10:00:00.000Z");
const NOW_S = NOW.getTime() / 1000;
const iso = (epochS: number): string => new Date(epochS * 1000).toISOString();

/** The shape of docs/codex-cli.md §2, with reset times near NOW. */
function usageBody(): Record<string, unknown> {
  return {
    plan_type: "plus",
    rate_limit: {
      allowed: true,
      limit_reached: false,
      primary_window: {
        used_percent: 12,
        limit_window_seconds: 18000,
        reset_after_seconds: 3600,
        reset_at: NOW_S + 3600,
      },
      secondary_window: {
        used_percent: 10,
        limit_window_seconds: 604800,
        reset_after_seconds: 518400,
        reset_at: NOW_S + 518400,
      },
    },
    credits: { has_credits: false, unlimited: false, balance: "0" },
    additional_rate_limits: [],
  };
}

describe("parseUsageBody (/wham/usage)", () => {
  it("reads the documented shape into a valid snapshot", () => {
    const snap = parseUsageBody(usageBody(), NOW);
    expect(QuotaSnapshotSchema.parse(snap)).toEqual(snap);
    expect(snap).toMatchObject({ source: "usage-api", plan: "plus", limitReached: false });
    expect(snap.observedAt).toBe(NOW.toISOString());
    expect(snap.windows).toEqual([
      { kind: "5h", windowMinutes: 300, usedPercent: 12, resetsAt: iso(NOW_S + 3600) },
      { kind: "weekly", windowMinutes: 10080, usedPercent: 10, resetsAt: iso(NOW_S + 518400) },
    ]);
  });

  it("classifies windows by length, not slot (swapped slots)", () => {
    const body = usageBody();
    const rl = body["rate_limit"] as Record<string, unknown>;
    [rl["primary_window"], rl["secondary_window"]] = [rl["secondary_window"], rl["primary_window"]];
    const kinds = parseUsageBody(body, NOW).windows.map((w) => [w.kind, w.usedPercent]);
    expect(kinds).toEqual([
      ["weekly", 10],
      ["5h", 12],
    ]);
  });

  it("keeps a window of another length as 'other' with its minutes", () => {
    const body = usageBody();
    (body["rate_limit"] as Record<string, Record<string, unknown>>)["primary_window"]![
      "limit_window_seconds"
    ] = 5400;
    const w = parseUsageBody(body, NOW).windows[0];
    expect(w).toMatchObject({ kind: "other", windowMinutes: 90 });
  });

  it("tolerates missing fields: no reset_at uses reset_after_seconds, no length is 'other'", () => {
    const snap = parseUsageBody(
      {
        rate_limit: {
          primary_window: { used_percent: 40, reset_after_seconds: 60 },
          secondary_window: null,
        },
      },
      NOW,
    );
    expect(snap.plan).toBeNull();
    expect(snap.windows).toEqual([
      { kind: "other", windowMinutes: null, usedPercent: 40, resetsAt: iso(NOW_S + 60) },
    ]);
  });

  it("skips a window without used_percent rather than reading it as 0 %", () => {
    const body = usageBody();
    delete (body["rate_limit"] as Record<string, Record<string, unknown>>)["primary_window"]![
      "used_percent"
    ];
    const snap = parseUsageBody(body, NOW);
    expect(snap.windows.map((w) => w.kind)).toEqual(["weekly"]);
  });

  it("records limit_reached", () => {
    const body = usageBody();
    (body["rate_limit"] as Record<string, unknown>)["limit_reached"] = true;
    expect(parseUsageBody(body, NOW).limitReached).toBe(true);
  });

  it("reads an answer without windows (no rate_limit, null windows, a zero length) as no limits", () => {
    for (const body of [
      { plan_type: "plus" },
      { rate_limit: { allowed: true, primary_window: null } },
      { rate_limit: { primary_window: { used_percent: 1, limit_window_seconds: 0 } } },
    ]) {
      const snap = parseUsageBody(body, NOW);
      expect([snap.windows, snap.allowances, snap.limitReached]).toEqual([[], [], false]);
    }
  });

  it("clamps overage above 100 % to 100", () => {
    const body = usageBody();
    (body["rate_limit"] as Record<string, Record<string, unknown>>)["primary_window"]![
      "used_percent"
    ] = 104.5;
    expect(parseUsageBody(body, NOW).windows[0]?.usedPercent).toBe(100);
  });

  it.each<[string, unknown]>([
    ["a string body", "hello"],
    ["an array body", [usageBody()]],
    ["null", null],
    ["rate_limit not an object", { rate_limit: "fast" }],
    ["used_percent as text", { rate_limit: { primary_window: { used_percent: "twelve" } } }],
    ["used_percent negative", { rate_limit: { primary_window: { used_percent: -3 } } }],
    ["used_percent NaN-ish", { rate_limit: { primary_window: { used_percent: {} } } }],
    [
      "window length negative",
      { rate_limit: { primary_window: { used_percent: 1, limit_window_seconds: -60 } } },
    ],
    ["reset_at as text", { rate_limit: { primary_window: { used_percent: 1, reset_at: "soon" } } }],
    [
      "reset_at absurdly far",
      { rate_limit: { primary_window: { used_percent: 1, reset_at: NOW_S + 10 * 365 * 86400 } } },
    ],
    ["plan_type as number", { ...usageBody(), plan_type: 3 }],
    ["limit_reached as text", { rate_limit: { limit_reached: "yes", primary_window: null } }],
  ])("rejects garbage as a classified error: %s", (_name, body) => {
    expect(() => parseUsageBody(body, NOW)).toThrow(QuotaParseError);
  });

  it("accepts epoch milliseconds for reset_at", () => {
    const snap = parseUsageBody(
      {
        rate_limit: {
          primary_window: {
            used_percent: 5,
            limit_window_seconds: 18000,
            reset_at: (NOW_S + 60) * 1000,
          },
        },
      },
      NOW,
    );
    expect(snap.windows[0]?.resetsAt).toBe(iso(NOW_S + 60));
  });
});

describe("parseRateLimitHeaders (x-codex-*)", () => {
  const headers = {
    "x-codex-primary-used-percent": "37.5",
    "x-codex-primary-window-minutes": "300",
    "x-codex-primary-reset-at": String(NOW_S + 600),
    "x-codex-secondary-used-percent": "80",
    "x-codex-secondary-window-minutes": "10080",
    "x-codex-secondary-reset-at": String(NOW_S + 86400),
    "x-codex-plan-type": "pro",
  };

  it("reads both windows from a plain record and from a Headers object", () => {
    for (const source of [headers, new Headers(headers)]) {
      const snap = parseRateLimitHeaders(source, NOW)!;
      expect(snap).toMatchObject({ source: "headers", plan: "pro", limitReached: false });
      expect(snap.windows).toEqual([
        { kind: "5h", windowMinutes: 300, usedPercent: 37.5, resetsAt: iso(NOW_S + 600) },
        { kind: "weekly", windowMinutes: 10080, usedPercent: 80, resetsAt: iso(NOW_S + 86400) },
      ]);
    }
  });

  it("is case-insensitive and classifies swapped slots by length", () => {
    const snap = parseRateLimitHeaders(
      {
        "X-Codex-Primary-Used-Percent": "10",
        "X-Codex-Primary-Window-Minutes": "10080",
        "x-codex-secondary-used-percent": "90",
        "x-codex-secondary-window-minutes": "300",
      },
      NOW,
    )!;
    expect(snap.windows.map((w) => [w.kind, w.usedPercent])).toEqual([
      ["weekly", 10],
      ["5h", 90],
    ]);
  });

  it("returns null without any window header, and reads an ISO reset time", () => {
    expect(parseRateLimitHeaders({ "content-type": "text/plain" }, NOW)).toBeNull();
    const snap = parseRateLimitHeaders(
      { "x-codex-primary-used-percent": "1", "x-codex-primary-reset-at": iso(NOW_S + 120) },
      NOW,
    )!;
    expect(snap.windows[0]?.resetsAt).toBe(iso(NOW_S + 120));
  });

  it("marks a reached limit", () => {
    const snap = parseRateLimitHeaders(
      { ...headers, "x-codex-rate-limit-reached-type": "primary" },
      NOW,
    )!;
    expect(snap.limitReached).toBe(true);
  });

  it.each([
    ["x-codex-primary-used-percent", "lots"],
    ["x-codex-primary-used-percent", "-5"],
    ["x-codex-primary-used-percent", "1".repeat(200)],
    ["x-codex-primary-window-minutes", "-300"],
    ["x-codex-primary-reset-at", "not a date"],
  ])("rejects garbage in %s", (name, value) => {
    expect(() => parseRateLimitHeaders({ ...headers, [name]: value }, NOW)).toThrow(
      QuotaParseError,
    );
  });
});

describe("parseRateLimitsEvent (codex.rate_limits) and token_count rate_limits", () => {
  it("reads the WS event shape", () => {
    const snap = parseRateLimitsEvent(
      {
        type: "codex.rate_limits",
        plan_type: "plus",
        rate_limits: {
          primary: { used_percent: 55, window_minutes: 300, reset_at: NOW_S + 100 },
          secondary: { used_percent: 20, window_minutes: 10080, reset_at: NOW_S + 200 },
        },
        credits: { has_credits: false },
      },
      NOW,
    )!;
    expect(snap).toMatchObject({ source: "rate-limits-event", plan: "plus" });
    expect(snap.windows.map((w) => [w.kind, w.usedPercent, w.resetsAt])).toEqual([
      ["5h", 55, iso(NOW_S + 100)],
      ["weekly", 20, iso(NOW_S + 200)],
    ]);
  });

  it("ignores other event types", () => {
    expect(parseRateLimitsEvent({ type: "response.created" }, NOW)).toBeNull();
  });

  it("reads the rollout token_count shape (resets_at, plan inside)", () => {
    const snap = parseTokenCountRateLimits(
      {
        limit_id: "codex",
        primary: { used_percent: 100.0, window_minutes: 300, resets_at: NOW_S + 900 },
        secondary: { used_percent: 3, window_minutes: 10080, resets_at: NOW_S + 9000 },
        plan_type: "team",
      },
      NOW,
    )!;
    expect(snap).toMatchObject({ source: "rollout", plan: "team" });
    expect(snap.windows[0]).toEqual({
      kind: "5h",
      windowMinutes: 300,
      usedPercent: 100,
      resetsAt: iso(NOW_S + 900),
    });
  });

  it("tolerates null windows, resets_in_seconds, and a null rate_limits", () => {
    expect(parseTokenCountRateLimits(null, NOW)).toBeNull();
    expect(parseTokenCountRateLimits({ primary: null, secondary: null }, NOW)).toBeNull();
    const snap = parseTokenCountRateLimits(
      { primary: { used_percent: 5, window_minutes: 10080, resets_in_seconds: 30 } },
      NOW,
    )!;
    expect(snap.windows).toEqual([
      { kind: "weekly", windowMinutes: 10080, usedPercent: 5, resetsAt: iso(NOW_S + 30) },
    ]);
  });

  it("does not take another meter's limits for the account's quota", () => {
    expect(
      parseTokenCountRateLimits(
        { limit_id: "other_meter", primary: { used_percent: 100, window_minutes: 300 } },
        NOW,
      ),
    ).toBeNull();
  });

  it.each<[string, unknown]>([
    ["rate_limits as text", "full"],
    ["primary as number", { primary: 7 }],
    ["used_percent as words", { primary: { used_percent: "seven" } }],
    ["window_minutes with a unit", { primary: { used_percent: 7, window_minutes: "300m" } }],
  ])("rejects garbage: %s", (_n, value) => {
    expect(() => parseTokenCountRateLimits(value, NOW)).toThrow(QuotaParseError);
  });
});

describe("usage-limit errors (429 body, WS error frame)", () => {
  const body = {
    error: {
      type: "usage_limit_reached",
      message: "You've hit your usage limit.",
      plan_type: "plus",
      resets_at: NOW_S + 3000,
    },
  };
  const hitOf = (b: unknown) => usageLimitOf(classifyServiceError(429, b, NOW));

  it("reads resets_at and produces a limit-reached snapshot", () => {
    const hit = hitOf(body)!;
    expect(hit.plan).toBe("plus");
    expect(hit.resetsAt?.toISOString()).toBe(iso(NOW_S + 3000));
    expect(QuotaSnapshotSchema.parse(hit.snapshot)).toMatchObject({
      source: "429",
      limitReached: true,
      limitResetsAt: iso(NOW_S + 3000),
      windows: [],
    });
  });

  it("reads resets_in_seconds and keeps the later of the two", () => {
    const onlyIn = hitOf({ error: { code: "usage_limit_reached", resets_in_seconds: 120 } })!;
    expect(onlyIn.resetsAt?.toISOString()).toBe(iso(NOW_S + 120));
    const both = hitOf({ error: { ...body.error, resets_in_seconds: 6000 } })!;
    expect(both.resetsAt?.toISOString()).toBe(iso(NOW_S + 6000));
  });

  it("tolerates a usage-limit error without any reset time", () => {
    const hit = hitOf({ error: { type: "usage_limit_reached" } })!;
    expect(hit.resetsAt).toBeNull();
    expect(hit.snapshot.limitReached).toBe(true);
  });

  it("tells other errors apart (usage_not_included, plain rate limit, no error)", () => {
    expect(classifyServiceError(429, { error: { type: "usage_not_included" } }, NOW).kind).toBe(
      "not-included",
    );
    expect(classifyServiceError(429, { error: { code: "rate_limit_exceeded" } }, NOW).kind).toBe(
      "throttled",
    );
    expect(classifyServiceError(500, { detail: "nope" }, NOW).kind).toBe("other");
  });

  it("reads the WS error frame with its headers", () => {
    const frame = classifyErrorFrame(
      {
        type: "error",
        status: 429,
        error: body.error,
        headers: {
          "x-codex-primary-used-percent": "100",
          "x-codex-primary-window-minutes": "300",
          "x-codex-primary-reset-at": String(NOW_S + 3000),
        },
      },
      NOW,
    )!;
    expect(usageLimitOf(frame)?.snapshot.windows).toEqual([
      { kind: "5h", windowMinutes: 300, usedPercent: 100, resetsAt: iso(NOW_S + 3000) },
    ]);
    expect(classifyErrorFrame({ type: "response.completed" }, NOW)).toBeNull();
  });

  it("classifies a body that is not JSON (or is oversized) by its status alone", () => {
    expect(classifyErrorText(429, "<html>429</html>", NOW).kind).toBe("other");
    expect(classifyErrorText(429, " ".repeat(70_000) + "{}", NOW).kind).toBe("other");
    expect(classifyServiceError(429, [], NOW).kind).toBe("other");
    expect(classifyErrorText(401, "<html>401</html>", NOW).kind).toBe("unauthorized");
    expect(usageLimitOf(classifyErrorText(429, JSON.stringify(body), NOW))?.plan).toBe("plus");
  });

  it("rejects a usage-limit error whose reset is garbage (its snapshot would lie)", () => {
    expect(() =>
      classifyServiceError(
        429,
        { error: { type: "usage_limit_reached", resets_at: "later" } },
        NOW,
      ),
    ).toThrow(QuotaParseError);
  });
});

describe("parseAppServerRateLimits (account/rateLimits/updated, live mode)", () => {
  /** What codex 0.171's app-server sent after a turn (docs/codex-app-server.md §3). */
  const sent = {
    limitId: "codex",
    limitName: null,
    primary: { usedPercent: 97, windowDurationMins: 300, resetsAt: NOW_S + 900 },
    secondary: { usedPercent: 4, windowDurationMins: 10080, resetsAt: NOW_S + 9000 },
    planType: "plus",
    rateLimitReachedType: null,
    normalModelSlug: null,
    credits: { hasCredits: false, unlimited: false, balance: "0" },
    individualLimit: null,
    spendControlReached: null,
  };

  it("reads the camelCase snapshot as the pool's, like codex's own rate-limit event", () => {
    const snap = parseAppServerRateLimits(sent, NOW)!;
    expect(QuotaSnapshotSchema.parse(snap)).toEqual(snap);
    expect(snap).toMatchObject({ source: "rate-limits-event", plan: "plus", limitReached: false });
    expect(snap.windows.map((w) => [w.kind, w.usedPercent, w.resetsAt])).toEqual([
      ["5h", 97, iso(NOW_S + 900)],
      ["weekly", 4, iso(NOW_S + 9000)],
    ]);
    expect(parseAppServerRateLimits(sent, NOW, { limitReached: true })?.limitReached).toBe(true);
  });

  it("reads a spend cap, a credit allowance, and the reached type", () => {
    const snap = parseAppServerRateLimits(
      {
        limitId: "codex",
        primary: null,
        secondary: null,
        individualLimit: { limit: "700", used: "700", remainingPercent: 0, resetsAt: NOW_S + 60 },
        spendControlReached: true,
        rateLimitReachedType: "workspace_member_usage_limit_reached",
      },
      NOW,
    )!;
    expect(snap.allowances?.map((a) => [a.kind, a.reached])).toEqual([
      ["credit-limit", true],
      ["spend-cap", true],
    ]);
    expect(snap.reachedType).toBe("workspace_member_usage_limit_reached");
  });

  it("says nothing for another meter, for nothing at all, and refuses garbage", () => {
    expect(parseAppServerRateLimits({ ...sent, limitId: "other" }, NOW)).toBeNull();
    expect(parseAppServerRateLimits(null, NOW)).toBeNull();
    expect(() => parseAppServerRateLimits("97%", NOW)).toThrow(QuotaParseError);
    expect(() =>
      parseAppServerRateLimits({ primary: { usedPercent: "lots", windowDurationMins: 300 } }, NOW),
    ).toThrow(QuotaParseError);
  });

  it("lays a sparse update over the last picture: a null is not a window gone", () => {
    const update = {
      limitId: "codex",
      primary: { usedPercent: 99, windowDurationMins: 300 },
      secondary: null,
    };
    const merged = mergeAppServerRateLimits(sent, update);
    const snap = parseAppServerRateLimits(merged, NOW)!;
    expect(snap.windows.map((w) => [w.kind, w.usedPercent])).toEqual([
      ["5h", 99],
      ["weekly", 4],
    ]);
    // Another limit replaces the picture; nothing before: the update alone.
    expect(mergeAppServerRateLimits(sent, { limitId: "other", primary: null })).toEqual({
      limitId: "other",
      primary: null,
    });
    expect(mergeAppServerRateLimits(null, update)).toBe(update);
  });
});
