import { describe, expect, test } from "vitest";
import type { LabRecord } from "../db/labs.ts";
import { courseOutline, courseProgress, courseScore } from "./course-progress.ts";
import type { GradebookRow } from "./gradebook.ts";

const labRecord = (id: string, maxScore: number): LabRecord => ({
  id,
  title: `Lab ${id}`,
  versionHash: "x",
  summary: { tasks: [], checks: [], maxScore },
});
const labs = new Map([labRecord("a", 10), labRecord("b", 10), labRecord("c", 4)].map((l) => [l.id, l]));
const outline = courseOutline(
  {
    id: "course",
    title: "Course",
    modules: [
      { number: 1, title: "One", labs: [{ lab: "a", weight: 1, requires: [] }] },
      {
        number: 2,
        title: "Two",
        labs: [
          { lab: "b", weight: 2, requires: ["a"] },
          { lab: "c", weight: 1, requires: [] },
        ],
      },
    ],
  },
  labs,
);
const row = (score: number | null, status = "graded"): GradebookRow => ({
  userId: 1,
  user: "ada",
  attempts: 1,
  attemptId: null,
  status,
  score,
  maxScore: 10,
  tasks: {},
});
const progress = (best: Record<string, GradebookRow>) =>
  courseProgress(outline, { id: 1, name: "ada" }, new Map(Object.entries(best)));
const labsOf = (best: Record<string, GradebookRow>) =>
  progress(best).modules.flatMap((m) => m.labs.map((l) => `${l.id}:${l.status}:${l.prerequisitesMet}`));

describe("courseProgress", () => {
  test.each<{ name: string; best: Record<string, GradebookRow>; labs: string[]; next: string | null }>([
    {
      name: "nothing started: the first lab is next, b waits for a",
      best: {},
      labs: ["a:not_started:true", "b:not_started:false", "c:not_started:true"],
      next: "a",
    },
    {
      name: "a attempted without full marks: a stays next",
      best: { a: row(7) },
      labs: ["a:attempted:true", "b:not_started:false", "c:not_started:true"],
      next: "a",
    },
    {
      name: "a with full marks opens b, which is next",
      best: { a: row(10) },
      labs: ["a:full_marks:true", "b:not_started:true", "c:not_started:true"],
      next: "b",
    },
    {
      name: "a not gradable counts as attempted, not as done",
      best: { a: row(null, "not_gradable") },
      labs: ["a:attempted:true", "b:not_started:false", "c:not_started:true"],
      next: "a",
    },
    {
      name: "everything with full marks: nothing is next",
      best: { a: row(10), b: row(10), c: row(4) },
      labs: ["a:full_marks:true", "b:full_marks:true", "c:full_marks:true"],
      next: null,
    },
  ])("$name", ({ best, labs: expected, next }) => {
    expect(labsOf(best)).toEqual(expected);
    expect(progress(best).next?.id ?? null).toBe(next);
  });

  test("the course score weighs each lab's share of its points", () => {
    // a: 10/10 × 1, b: 5/10 × 2, c: 0 × 1 → 2 of 4.
    expect(progress({ a: row(10), b: row(5) }).score).toBe(50);
    expect(courseScore([])).toBe(0);
  });

  test("a lab the gradebook does not know is an error naming it", () => {
    expect(() =>
      courseOutline(
        { id: "x", title: "X", modules: [{ number: 1, title: "M", labs: [{ lab: "zz", weight: 1, requires: [] }] }] },
        labs,
      ),
    ).toThrow(/names lab zz/);
  });
});
