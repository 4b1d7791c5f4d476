import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Real processes and sockets: keep parallelism modest for a 2-core CI box.
    maxWorkers: 2,
    env: { NO_COLOR: "1" },
    reporters: ["default", "./test/summary-reporter.ts"],
    // Fails the run when a test leaves a process behind (test/leftovers.ts).
    globalSetup: ["./test/leftovers.ts"],
  },
});
