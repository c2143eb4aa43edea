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
          // A grade mostly waits on the lab's own timings (holds, 10 s polls, quiet windows), so
          // files run three at a time; within a file, grades already run side by side.
          fileParallelism: true,
          maxWorkers: 3,
        },
      },
    ],
  },
});
