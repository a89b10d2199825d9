// Shared vitest settings for every package of kbridge: tests live in test/, property tests use fast-check.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // The CI machine has 2 cores and turbo already runs packages side by side.
    maxWorkers: 2,
  },
});
