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
    // Each worker runs its files one after the other in one process instead of a fresh process per
    // file (Vitest's isolate): no per-file process start and module graph load. The model keeps no
    // module-level mutable state, and the tests that replace process-wide things (node:fs's writeSync
    // in test/cli/robust.test.ts, stdout/stderr, cwd and environment around in-process CLI runs in
    // test/cli/bad-input.test.ts) restore them in afterEach/finally.
    isolate: false,
  },
});
