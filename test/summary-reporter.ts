/**
 * Prints one plain closing line, `tests: N passed, N failed, N skipped`, after vitest's own
 * summary, so CI can read the count whatever reporter format vitest uses. A test that passed only
 * on a retry is not a clean pass: it is counted apart ("N passed on retry", with its name), so a
 * flaky test can never hide in the total. The suite sets no `retry` anywhere; the count is there
 * so one added later shows.
 */
import type { Reporter, TestCase, TestModule } from "vitest/node";

export interface Summary {
  passed: number;
  failed: number;
  skipped: number;
  /** Full names of the tests that passed only after failing first. */
  passedOnRetry: string[];
}

function fullName(test: TestCase): string {
  return `${test.module.moduleId.replace(/^.*?\/test\//, "test/")} > ${test.fullName}`;
}

export function summarize(testModules: ReadonlyArray<TestModule>): Summary {
  const summary: Summary = { passed: 0, failed: 0, skipped: 0, passedOnRetry: [] };
  for (const module of testModules) {
    for (const test of module.children.allTests()) {
      const state = test.result().state;
      if (state === "passed") {
        if ((test.diagnostic()?.retryCount ?? 0) > 0) summary.passedOnRetry.push(fullName(test));
        else summary.passed += 1;
      } else if (state === "failed") summary.failed += 1;
      else summary.skipped += 1;
    }
    if (module.state() === "failed" && module.children.size === 0) summary.failed += 1;
  }
  return summary;
}

export function summaryLine(s: Summary): string {
  const retried = s.passedOnRetry.length > 0 ? `, ${s.passedOnRetry.length} passed on retry` : "";
  const names = s.passedOnRetry.map((name) => `\n  passed on retry: ${name}`).join("");
  return `tests: ${s.passed} passed${retried}, ${s.failed} failed, ${s.skipped} skipped${names}`;
}

export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    process.stdout.write(`\n${summaryLine(summarize(testModules))}\n`);
  }
}
