import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    reporters: ["default", ["json", { outputFile: "test-results/vitest.json" }], ["junit", { outputFile: "test-results/vitest.junit.xml" }]],
    projects: [
      {
        test: {
          name: "unit",
          include: ["grader/src/**/*.test.ts", "server/src/**/*.test.ts"],
        },
      },
      {
        test: {
          name: "integration",
          include: ["test/**/*.test.ts"],
          testTimeout: 300_000,
          hookTimeout: 300_000,
          // Integration tests start control planes and grade many operators at once on a
          // two-core machine: one file at a time keeps their timings those of a real grade.
          fileParallelism: false,
        },
      },
    ],
  },
});
