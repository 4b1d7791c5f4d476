/**
 * The closing summary line counts a test that passed only on a retry apart from clean passes, and
 * names it (test/summary-reporter.ts), so a flaky test cannot hide in the total.
 */
import { describe, expect, it } from "vitest";
import type { TestModule } from "vitest/node";
import { summarize, summaryLine } from "./summary-reporter.js";

interface FakeTest {
  name: string;
  state: "passed" | "failed" | "skipped";
  retries: number;
}

/** Just the parts of vitest's TestModule the summary reads. */
function module(id: string, tests: FakeTest[]): TestModule {
  const cases = tests.map((t) => ({
    fullName: t.name,
    module: { moduleId: `/repo/test/${id}` },
    result: () => ({ state: t.state }),
    diagnostic: () => ({ retryCount: t.retries }),
  }));
  return {
    state: () => (tests.some((t) => t.state === "failed") ? "failed" : "passed"),
    children: { size: cases.length, allTests: () => cases },
  } as unknown as TestModule;
}

describe("the summary line", () => {
  it("counts passes on retry apart and names them", () => {
    const s = summarize([
      module("a.test.ts", [
        { name: "clean", state: "passed", retries: 0 },
        { name: "flaky one", state: "passed", retries: 2 },
        { name: "broken", state: "failed", retries: 1 },
      ]),
      module("b.test.ts", [{ name: "later", state: "skipped", retries: 0 }]),
    ]);
    expect(summaryLine(s)).toBe(
      "tests: 1 passed, 1 passed on retry, 1 failed, 1 skipped\n  passed on retry: test/a.test.ts > flaky one",
    );
  });

  it("says nothing about retries when there were none", () => {
    const s = summarize([module("a.test.ts", [{ name: "clean", state: "passed", retries: 0 }])]);
    expect(summaryLine(s)).toBe("tests: 1 passed, 0 failed, 0 skipped");
  });
});
