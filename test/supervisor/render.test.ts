import { describe, expect, it } from "vitest";
import type { Pool } from "../../src/pool/schema.js";
import { emptyPool } from "../../src/pool/schema.js";
import { formatSwitchLine } from "../../src/supervisor/render.js";
import { formatClock } from "../../src/supervisor/wait-for-reset.js";

describe("formatClock", () => {
  it("gives the time today, and the English weekday on another day", () => {
    const now = new Date(2026, 5, 1, 12, 0).getTime(); // local time, whatever the zone
    expect(formatClock(new Date(2026, 5, 1, 14, 5).getTime(), now)).toBe("14:05");
    for (let day = 2; day <= 8; day += 1) {
      const at = new Date(2026, 5, day, 9, 30);
      const weekday = at.toLocaleDateString("en-US", { weekday: "short" });
      expect(formatClock(at.getTime(), now)).toBe(`${weekday} 09:30`);
    }
  });
});

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
  });
});
