import { describe, expect, it } from "vitest";
import type { GradeResult } from "../contracts.ts";
import { gradeUntilGradable } from "./retry.ts";

const result = (status: GradeResult["status"], score = 0): GradeResult => ({
  lab: "lab",
  labTitle: "Lab",
  provider: "kwok",
  operator: "op",
  status,
  ...(status === "not_gradable" ? { reason: "the cluster broke during the grade: its etcd exited" } : {}),
  score,
  maxScore: 50,
  startedAt: new Date(0).toISOString(),
  durationMs: 1,
  findings: [],
  checks: [],
});

describe("gradeUntilGradable", () => {
  it.each([
    {
      name: "a graded result (a zero too) is never retried",
      answers: ["graded"],
      retries: 2,
      grades: 1,
      status: "graded",
    },
    { name: "not gradable, then graded", answers: ["not_gradable", "graded"], retries: 2, grades: 2, status: "graded" },
    {
      name: "not gradable every time: stops after its retries",
      answers: ["not_gradable", "not_gradable", "not_gradable", "graded"],
      retries: 2,
      grades: 3,
      status: "not_gradable",
    },
    { name: "no retries", answers: ["not_gradable", "graded"], retries: 0, grades: 1, status: "not_gradable" },
  ] as const)("$name", async ({ answers, retries, grades, status }) => {
    const attempts: number[] = [];
    const retried: number[] = [];
    const final = await gradeUntilGradable(
      async (attempt) => {
        attempts.push(attempt);
        return result(answers[attempt - 1]!);
      },
      retries,
      (_, attempt) => retried.push(attempt),
    );
    expect(final.status).toBe(status);
    expect(attempts).toEqual(Array.from({ length: grades }, (_, i) => i + 1));
    expect(retried).toEqual(attempts.slice(0, -1));
  });
});
