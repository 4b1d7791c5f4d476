/**
 * Live mode's quota readings (src/supervisor/live-quota.ts), in virtual time: the app-server's
 * rate-limit updates settle before they are stored under the account that reported them; an
 * account change stores the previous account's held reading as its own at once.
 */
import { describe, expect, it } from "vitest";
import type { QuotaSnapshot } from "../../src/pool/schema.js";
import { LiveQuota } from "../../src/supervisor/live-quota.js";
import { QUOTA_SETTLE_MS } from "../../src/supervisor/quota-settle.js";
import { VirtualClock } from "../helpers/virtual-clock.js";

const A = { id: "acc_aaaaaa", label: "#1 a@…" };
const B = { id: "acc_bbbbbb", label: "#2 b@…" };

const update = (usedPercent: number) => ({
  primary: { usedPercent, windowDurationMins: 300, resetsAt: 1_795_486_637 },
});

function world() {
  const clock = new VirtualClock();
  const stored: [string, number | undefined][] = [];
  const quota = new LiveQuota({
    clock,
    quotaPollMs: 3_600_000,
    observe: (accountId: string, snapshot: QuotaSnapshot) => {
      stored.push([accountId, snapshot.windows[0]?.usedPercent]);
      return Promise.resolve(null);
    },
    probe: () => Promise.resolve(null),
    onPressure: () => undefined,
    warn: (line) => {
      throw new Error(line);
    },
  });
  return { clock, stored, quota };
}

describe("LiveQuota", () => {
  it("stores the latest reading of a settle period once, under the account that reported it", async () => {
    const { clock, stored, quota } = world();
    quota.follow(A);
    quota.rateLimitsUpdated(update(10));
    quota.rateLimitsUpdated(update(12));
    await clock.advance(QUOTA_SETTLE_MS - 1);
    expect(stored).toEqual([]);
    await clock.advance(1);
    expect(stored).toEqual([[A.id, 12]]);
    quota.stop();
  });

  it("an account change stores the previous account's held reading as its own, then follows the next", async () => {
    const { clock, stored, quota } = world();
    quota.follow(A);
    quota.rateLimitsUpdated(update(40));
    quota.follow(B);
    expect(stored).toEqual([[A.id, 40]]);
    quota.rateLimitsUpdated(update(5));
    await clock.advance(QUOTA_SETTLE_MS);
    expect(stored).toEqual([
      [A.id, 40],
      [B.id, 5],
    ]);
    quota.stop();
  });
});
