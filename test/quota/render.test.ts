import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { Output } from "../../src/cli/output.js";
import { bar, formatPercent } from "../../src/cli/render/bars.js";
import { formatDuration, formatIn } from "../../src/cli/render/time.js";

describe("status rendering helpers", () => {
  it("formats distances, rounded down", () => {
    const now = new Date("2026-11-24T10:00:00Z");
    const later = (ms: number): Date => new Date(now.getTime() + ms);
    expect(formatIn(later((2 * 60 + 13) * 60_000 + 59_000), now)).toBe("in 2h 13m");
    expect(formatIn(later(30_000), now)).toBe("in <1m");
    expect(formatIn(later(-1), now)).toBe("passed");
    expect(formatDuration(3 * 86_400_000 + 4 * 3_600_000)).toBe("3d 4h");
    expect(formatDuration(3_600_000)).toBe("1h");
  });

  it("draws bars and percents that never hide a spent window", () => {
    expect(bar(100)).toBe("██████████");
    expect(bar(0)).toBe("░░░░░░░░░░");
    expect(bar(1)).toBe("█░░░░░░░░░");
    expect(formatPercent(99.9)).toBe("99%");
    expect(formatPercent(0.4)).toBe("0%");
  });

  it("colours only when the output allows it", () => {
    const plain = new Output(new PassThrough(), new PassThrough(), false, false);
    const tty = new Output(new PassThrough(), new PassThrough(), true, true);
    expect(plain.paint("red", "x")).toBe("x");
    expect(tty.paint("red", "x")).toBe("\u001b[31mx\u001b[39m");
  });
});
