import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { CheckResult, GradeResult } from "../contracts.ts";
import { compare, longestFirst, readTimings, writeTimings } from "./validate.ts";

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

describe("longestFirst", () => {
  it.each([
    { name: "longest first", last: { a: 10, b: 30, c: 20 }, order: ["b", "c", "a"] },
    { name: "never timed ahead of all, in their own order", last: { b: 30 }, order: ["a", "c", "b"] },
    { name: "no times keeps the order", last: {}, order: ["a", "b", "c"] },
    { name: "ties keep the order", last: { a: 5, b: 5, c: 5 }, order: ["a", "b", "c"] },
  ])("$name", ({ last, order }) => {
    expect(longestFirst(["a", "b", "c"], (x) => (last as Record<string, number>)[x])).toEqual(order);
  });
});

describe("grade times kept between runs", () => {
  it("merges a run of one lab into the times of the others", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "timings-")), "validate-timings.json");
    await writeTimings(file, { "a/reference": 10, "b/reference": 20 });
    await writeTimings(file, { "a/reference": 15 });
    expect(await readTimings(file)).toEqual({ "a/reference": 15, "b/reference": 20 });
  });

  it("reads no times from a file that is missing or not timings", async () => {
    const dir = mkdtempSync(join(tmpdir(), "timings-"));
    writeFileSync(join(dir, "bad.json"), JSON.stringify({ "a/reference": "slow" }));
    expect(await readTimings(join(dir, "missing.json"))).toEqual({});
    expect(await readTimings(join(dir, "bad.json"))).toEqual({});
  });
});
