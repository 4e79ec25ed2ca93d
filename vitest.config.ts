import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    reporters: ["default", "./test/support/summary-reporter.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: "forks",
    // Vitest's default is one worker fewer than the cores: on a 2-core machine that runs the files one
    // after the other. The tests are CPU-bound simulations and spawned CLI processes; one worker per
    // core keeps every core busy (VITEST_MAX_WORKERS still overrides this).
    maxWorkers: availableParallelism(),
  },
});
