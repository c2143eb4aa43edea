import { describe, expect, test } from "vitest";
import type { LabRecord } from "../db/labs.ts";
import { courseMatrix, courseOutline } from "../services/course-progress.ts";
import type { GradebookRow } from "../services/gradebook.ts";
import { courseMatrixModel, courseModel } from "./course.ts";
import { createRenderer } from "./render.ts";

const lab = (id: string, maxScore: number): LabRecord => ({
  id,
  title: `Lab ${id}`,
  versionHash: "x",
  summary: { tasks: [], checks: [], maxScore },
});
const labs = new Map([lab("first", 10), lab("second", 4)].map((l) => [l.id, l]));
const outline = courseOutline(
  {
    id: "course",
    title: "The course",
    modules: [
      { number: 1, title: "Start", labs: [{ lab: "first", weight: 1, requires: [] }] },
      { number: 2, title: "Then", labs: [{ lab: "second", weight: 1, requires: ["first"] }] },
    ],
  },
  labs,
);
const row = (userId: number, user: string, score: number | null, status = "graded"): GradebookRow => ({
  userId,
  user,
  attempts: 1,
  attemptId: null,
  status,
  score,
  maxScore: 0,
  tasks: {},
});
const matrix = courseMatrix(
  outline,
  new Map([
    ["first", [row(2, "cy", 10), row(1, "ada", 4), row(3, "bob", 0)]],
    ["second", [row(2, "cy", 4)]],
  ]),
);
const model = courseMatrixModel(matrix);

describe("courseMatrixModel", () => {
  test("one row per learner who submitted, by name, with the course score and what is next", () => {
    expect(model.rows.map((r) => [r.user, r.score, r.next])).toEqual([
      ["ada", "20%", "Lab first"],
      ["bob", "0%", "Lab first"],
      ["cy", "100%", "done"],
    ]);
  });

  test.each([
    { user: "ada", cells: ["partial:4/10", "none:—"] },
    { user: "bob", cells: ["fail:0/10", "none:—"] },
    { user: "cy", cells: ["pass:10/10", "pass:4/4"] },
  ])("$user's cells say full marks, some points, none or not started", ({ user, cells }) => {
    const found = model.rows.find((r) => r.user === user)!;
    expect(found.cells.map((c) => `${c.state}:${c.best}`)).toEqual(cells);
  });

  test("the page links each lab to its cohort page and each cell to the learner's page", () => {
    const html = createRenderer().html("instructor/course", { title: "t" }, { course: outline, ...model });
    expect(html).toContain('href="/instructor/labs/second"');
    expect(html).toContain('href="/instructor/labs/first/learners/1"');
    expect(html).toContain('href="/instructor/course.csv"');
  });
});

describe("courseModel (the learner's page)", () => {
  test("marks the next lab, and a lab whose prerequisites are not met as locked", () => {
    const [ada] = matrix.rows;
    const page = courseModel(ada!);
    const cards = page.modules.flatMap((m) => m.labs.map((l) => `${l.id}:${l.isNext}:${l.locked}:${l.best}`));
    expect(cards).toEqual(["first:true:false:4/10", "second:false:true:—"]);
    const html = createRenderer().html("learner/course", { title: "t" }, page);
    expect(html).toMatch(/Next: <a href="\/labs\/first">Lab first<\/a>/);
  });
});
