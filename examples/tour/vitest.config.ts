import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // The JSON report feeds the one-line summary that `npm test` prints last (scripts/test-summary.mjs).
    reporters: ["default", "json"],
    outputFile: { json: "test-results.json" },
    // Scenarios boot kernels and move megabytes: a few seconds each when CI runs every package at once, not a hang.
    testTimeout: 30_000,
  },
});
