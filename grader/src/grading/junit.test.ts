import { describe, expect, it } from "vitest";
import type { GradeResult } from "../contracts.ts";
import { toJUnit } from "./junit.ts";

const result = (message: string): GradeResult => ({
  lab: "lab",
  labTitle: "Lab",
  provider: "kwok",
  operator: "op",
  status: "graded",
  score: 0,
  maxScore: 1,
  startedAt: "2026-01-01T00:00:00.000Z",
  durationMs: 1000,
  findings: [],
  checks: [
    {
      id: "c1",
      task: "1.2",
      title: "t",
      required: true,
      points: 1,
      status: "failed",
      message,
      hint: "h",
      decidedAtMs: 10,
    },
  ],
});

describe("toJUnit", () => {
  it.each([
    ["escapes markup", 'a <b> & "c"', "a &lt;b&gt; &amp; &quot;c&quot;"],
    ["drops characters XML cannot hold", "bell\u0007 and nul\u0000 gone", "bell and nul gone"],
    ["keeps newlines and tabs", "one\n\ttwo", "one\n\ttwo"],
  ])("%s", (_name, message, expected) => {
    expect(toJUnit([result(message)])).toContain(`<failure message="${expected}">`);
  });
  it("lists every check as a test case with its task as class name", () => {
    expect(toJUnit([result("m")])).toMatch(/<testcase classname="lab\.task-1\.2" name="c1" time="0\.010">/);
  });
});
