import { describe, expect, test } from "vitest";
import type { LabRecord } from "../db/labs.ts";
import { gradebookCsv } from "./gradebook.ts";

const lab: LabRecord = {
  id: "composing-operators",
  title: "Composing Operators",
  versionHash: "x",
  summary: {
    tasks: [
      { id: "1.1", title: "a" },
      { id: "2.1", title: "b" },
    ],
    checks: [],
    maxScore: 10,
  },
};
const row = (
  user: string,
  tasks: Record<string, number>,
  status: string | null = "graded",
  score: number | null = 5,
) => ({ userId: 1, user, attempts: 2, attemptId: null, status, score, maxScore: 10, tasks });

describe("gradebookCsv", () => {
  test.each([
    { name: "plain row", rows: [row("ada", { "1.1": 3, "2.1": 2 })], line: "ada,2,graded,5,10,3,2" },
    { name: "missing task counts as 0", rows: [row("bob", { "1.1": 3 })], line: "bob,2,graded,5,10,3,0" },
    { name: "no finished attempt", rows: [row("cy", {}, null, null)], line: "cy,2,,,10,0,0" },
    { name: "comma and quote are quoted", rows: [row('d,"e"', {})], line: '"d,""e""",2,graded,5,10,0,0' },
    { name: "a formula is defused", rows: [row("=HYPERLINK(1)", {})], line: "'=HYPERLINK(1),2,graded,5,10,0,0" },
  ])("$name", ({ rows, line }) => {
    const lines = gradebookCsv(lab, rows).split("\r\n");
    expect(lines[0]).toBe("user,attempts,status,score,max_score,task 1.1,task 2.1");
    expect(lines[1]).toBe(line);
    expect(lines[2]).toBe("");
  });
});
