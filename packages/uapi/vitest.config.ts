import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // CI has 2 cores and turbo runs packages side by side.
    maxWorkers: 2,
  },
});
