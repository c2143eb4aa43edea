import { describe, expect, it } from "vitest";
import type { CheckResult, GradeResult } from "../contracts.ts";
import { compare } from "./validate.ts";

const check = (id: string, status: CheckResult["status"]): CheckResult => ({
  id,
  task: "1.4",
  title: id,
  required: true,
  points: 1,
  status,
  message: "",
  hint: "",
  decidedAtMs: 0,
});
const graded = (checks: CheckResult[]): GradeResult => ({
  lab: "lab",
  labTitle: "Lab",
  provider: "kwok",
  operator: "mutant",
  status: "graded",
  score: 0,
  maxScore: 3,
  startedAt: new Date(0).toISOString(),
  durationMs: 1,
  findings: [],
  checks,
});

describe("compare", () => {
  it.each([
    {
      name: "fails exactly its checks",
      statuses: { a: "failed", b: "passed", c: "passed" },
      ok: true,
      missed: [],
      unexpected: [],
    },
    {
      name: "a timing-dependent check that failed",
      statuses: { a: "failed", b: "failed", c: "passed" },
      ok: true,
      missed: [],
      unexpected: [],
    },
    {
      name: "a check it must fail that passed",
      statuses: { a: "passed", b: "passed", c: "passed" },
      ok: false,
      missed: ["a"],
      unexpected: [],
    },
    {
      name: "a check no one listed that failed",
      statuses: { a: "failed", b: "passed", c: "failed" },
      ok: false,
      missed: [],
      unexpected: ["c"],
    },
  ] as const)("$name", ({ statuses, ok, missed, unexpected }) => {
    const result = graded(Object.entries(statuses).map(([id, status]) => check(id, status)));
    expect(compare({ operator: "mutant", fails: ["a"], mayFail: ["b"] }, result)).toMatchObject({
      ok,
      missed,
      unexpected,
      errors: [],
    });
  });
});
