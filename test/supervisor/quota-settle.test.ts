/**
 * A quota reading held until it settles (src/supervisor/quota-settle.ts), in virtual time: the
 * latest reading of a period is stored once, at the end of the first one's period; a reading taken
 * away is never stored; the next reading after a store starts a new period.
 */
import { describe, expect, it } from "vitest";
import { SettlingReading } from "../../src/supervisor/quota-settle.js";
import { VirtualClock } from "../helpers/virtual-clock.js";

describe("SettlingReading", () => {
  it("stores the latest reading once, at the end of the first reading's period", async () => {
    const clock = new VirtualClock();
    const stored: string[] = [];
    const settling = new SettlingReading<string>(clock, 250, (v) => stored.push(v));
    settling.offer("a");
    await clock.advance(100);
    settling.offer("b");
    await clock.advance(149);
    expect(stored).toEqual([]);
    await clock.advance(1);
    expect(stored).toEqual(["b"]);
    settling.offer("c");
    await clock.advance(250);
    expect(stored).toEqual(["b", "c"]);
    expect(clock.pending).toBe(0);
  });

  it("hands a taken reading to the caller and never stores it", async () => {
    const clock = new VirtualClock();
    const stored: (string | null)[] = [];
    const settling = new SettlingReading<string | null>(clock, 250, (v) => stored.push(v));
    expect(settling.take()).toBeNull();
    settling.offer(null);
    expect(settling.take()).toEqual({ value: null });
    expect(settling.take()).toBeNull();
    await clock.advance(1000);
    expect(stored).toEqual([]);
    expect(clock.pending).toBe(0);
  });
});
