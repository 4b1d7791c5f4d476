import { describe, expect, it } from "vitest";
import type { Pool } from "../../src/pool/schema.js";
import { emptyPool } from "../../src/pool/schema.js";
import { formatClock, formatDuration } from "../../src/platform/time-text.js";
import { countdownLine, formatSwitchLine } from "../../src/supervisor/render.js";

describe("times in text: one style for status, the switch line and the countdown", () => {
  it("gives the time today, the English weekday within six days, then the date", () => {
    const now = new Date(2026, 5, 1, 12, 0).getTime(); // local time, whatever the zone
    expect(formatClock(new Date(2026, 5, 1, 14, 5).getTime(), now)).toBe("14:05");
    for (let day = 2; day <= 7; day += 1) {
      const at = new Date(2026, 5, day, 9, 30);
      const weekday = at.toLocaleDateString("en-US", { weekday: "short" });
      expect(formatClock(at.getTime(), now)).toBe(`${weekday} 09:30`);
    }
    // A week ahead has today's weekday: the date says which.
    expect(formatClock(new Date(2026, 5, 8, 9, 30), new Date(now))).toBe("Jun 8 09:30");
  });

  it("gives distances by their two largest units, seconds only when counting down", () => {
    const ms = (h: number, m: number, s: number): number => ((h * 60 + m) * 60 + s) * 1000;
    expect(formatDuration(ms(2, 13, 59))).toBe("2h 13m");
    expect(formatDuration(ms(0, 13, 59))).toBe("13m");
    expect(formatDuration(ms(0, 0, 45))).toBe("45s");
    expect(formatDuration(ms(1, 2, 3), "s")).toBe("1h 2m");
    expect(formatDuration(ms(0, 4, 5), "s")).toBe("4m 5s");
    expect(formatDuration(ms(0, 4, 0), "s")).toBe("4m");
    expect(formatDuration(ms(0, 0, 9), "s")).toBe("9s");
  });

  it("the countdown never shows 0s while there is time left", () => {
    const exhaustion = { resets: [], earliest: null };
    const now = Date.parse("2026-06-01T12:00:00Z");
    expect(countdownLine(400, exhaustion, now)).toMatch(/resuming in 1s /);
    expect(countdownLine(ms2(1, 2, 3), exhaustion, now)).toMatch(/resuming in 1h 2m /);
  });
});

function ms2(h: number, m: number, s: number): number {
  return ((h * 60 + m) * 60 + s) * 1000;
}

describe("formatSwitchLine", () => {
  it("takes the quota from a pool in hand without reading the store", async () => {
    const pool: Pool = emptyPool();
    const clock = { now: () => Date.parse("2026-06-01T12:00:00Z") };
    const line = await formatSwitchLine(
      pool,
      clock,
      "0193aaaa-bbbb-7ccc-8ddd-eeeeeeeeeeee",
      { id: "acc_a", label: "#1 alice@…" },
      { id: "acc_b", label: "#2 bob@…" },
      "limit",
    );
    expect(line).toBe(
      "session 0193aaaa… moved from #1 alice@… (quota unknown) to #2 bob@… (quota unknown): usage limit reached",
    );
    const live = await formatSwitchLine(
      pool,
      clock,
      "0193aaaa-bbbb-7ccc-8ddd-eeeeeeeeeeee",
      { id: "acc_a", label: "#1 alice@…" },
      { id: "acc_b", label: "#2 bob@…" },
      "signed-out",
      true,
    );
    expect(live).toBe(
      "session 0193aaaa… moved live from #1 alice@… (quota unknown) to #2 bob@… (quota unknown): its sign-in was refused and could not be renewed",
    );
  });
});
