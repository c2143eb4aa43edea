import { BaseSequencer, type TestSpecification } from "vitest/node";
import { defineConfig } from "vitest/config";

/**
 * Integration files run three at a time, longest first, so the longest (validate grades the
 * reference and every mutant) does not start last. Durations measured on a 2-core machine.
 */
const LONGEST_FIRST = [
  "validate",
  "service-grading",
  "browser",
  "grade-cli",
  "start-stop",
  "sandbox",
  "hostile/containment",
  "fair-use",
  "service-api",
  "foundation",
  "cli-cluster",
];

class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (f: TestSpecification) => {
      const i = LONGEST_FIRST.findIndex((name) => f.moduleId.endsWith(`/test/${name}.test.ts`));
      return i < 0 ? LONGEST_FIRST.length : i;
    };
    return [...(await super.sort(files))].sort((a, b) => rank(a) - rank(b));
  }
}

export default defineConfig({
  test: {
    globalSetup: ["test/support/scratch-dir.ts"],
    reporters: [
      "default",
      ["json", { outputFile: "test-results/vitest.json" }],
      ["junit", { outputFile: "test-results/vitest.junit.xml" }],
    ],
    sequence: { sequencer: LongestFirst },
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
          exclude: ["test/kind.test.ts", "test/compose.test.ts"],
          testTimeout: 300_000,
          hookTimeout: 300_000,
          // expect.poll waits for a condition, not for a deadline: a page or API answers in seconds
          // on a busy 2-core host (the default 1 s failed a sign-in page under CI's load).
          expect: { poll: { timeout: 60_000, interval: 100 } },
          // A grade mostly waits on the lab's own timings (holds, 10 s polls, quiet windows), so
          // files run three at a time; within a file, grades already run side by side.
          fileParallelism: true,
          maxWorkers: 3,
        },
      },
      {
        test: {
          // kind's nodes run real pods (every Database's postgres, kubeadm's control plane): beside
          // the kwok files they starve each other of the two cores, so kind grades on its own, last.
          name: "kind",
          include: ["test/kind.test.ts"],
          testTimeout: 300_000,
          hookTimeout: 300_000,
          expect: { poll: { timeout: 60_000, interval: 100 } },
          sequence: { groupOrder: 1 },
        },
      },
      {
        test: {
          // The whole service in containers (docker compose): its worker grades on kwok inside its
          // own container, so it too runs on its own, after kind.
          name: "compose",
          include: ["test/compose.test.ts"],
          testTimeout: 660_000,
          hookTimeout: 660_000,
          sequence: { groupOrder: 2 },
        },
      },
    ],
  },
});
