import { describe, expect, test } from "vitest";
import type { LabRecord } from "../db/labs.ts";
import type { GradebookRow } from "../services/gradebook.ts";
import { DashboardQuerySchema, dashboardModel, taskCell } from "./dashboard.ts";

const lab: LabRecord = {
  id: "lab",
  title: "Lab",
  versionHash: "x",
  summary: {
    tasks: [
      { id: "1", title: "one" },
      { id: "2", title: "two" },
      { id: "3", title: "advice only" },
    ],
    checks: [
      { id: "a", task: "1", title: "a", points: 2, required: true },
      { id: "b", task: "2", title: "b", points: 3, required: true },
      { id: "c", task: "3", title: "c", points: 1, required: false },
    ],
    maxScore: 5,
  },
};
const row = (user: string, status: string | null, tasks: Record<string, number>, attempts = 1): GradebookRow => ({
  userId: user.length,
  user,
  attempts,
  attemptId: null,
  status,
  score: status === "graded" ? Object.values(tasks).reduce((a, b) => a + b, 0) : null,
  maxScore: 5,
  tasks,
});
const rows = [
  row("cy", "graded", { "1": 2, "2": 3 }, 3),
  row("ada", "graded", { "1": 2, "2": 0 }),
  row("bob", "not_gradable", {}, 2),
  row("dee", null, {}),
];
const model = (query: Record<string, string>) => dashboardModel(lab, rows, DashboardQuerySchema.parse(query));
const names = (query: Record<string, string>) => model(query).rows.map((r) => r.user);

const cases: { name: string; query: Record<string, string>; expected: string[] }[] = [
  { name: "by name by default", query: {}, expected: ["ada", "bob", "cy", "dee"] },
  {
    name: "by score, highest first; no score last",
    query: { sort: "score", dir: "desc" },
    expected: ["cy", "ada", "bob", "dee"],
  },
  { name: "by attempts", query: { sort: "attempts", dir: "desc" }, expected: ["cy", "bob", "ada", "dee"] },
  { name: "by a task's points", query: { sort: "task:2", dir: "desc" }, expected: ["cy", "ada", "bob", "dee"] },
  { name: "name filter, any case", query: { q: "A" }, expected: ["ada"] },
  { name: "full marks", query: { status: "full" }, expected: ["cy"] },
  { name: "not full marks", query: { status: "incomplete" }, expected: ["ada", "bob", "dee"] },
  { name: "not gradable", query: { status: "not_gradable" }, expected: ["bob"] },
  { name: "no finished attempt", query: { status: "none" }, expected: ["dee"] },
  { name: "not passing task 2", query: { failing: "2" }, expected: ["ada", "bob", "dee"] },
  {
    name: "a nonsense query falls back to the defaults",
    query: { sort: "<script>", dir: "sideways", status: "weird" },
    expected: ["ada", "bob", "cy", "dee"],
  },
];

describe("dashboardModel", () => {
  test.each(cases)("sorts and filters: $name", ({ query, expected }) => {
    expect(names(query)).toEqual(expected);
  });

  test("cells say pass, partly, fail, not gradable, no attempt and advisory", () => {
    const byUser = Object.fromEntries(
      model({}).rows.map((r) => [r.user, r.cells.map((c) => `${c.state}:${c.points}`)]),
    );
    expect(byUser).toEqual({
      ada: ["pass:2/2", "fail:0/3", "advisory:"],
      bob: ["not-gradable:", "not-gradable:", "not-gradable:"],
      cy: ["pass:2/2", "pass:3/3", "advisory:"],
      dee: ["none:", "none:", "none:"],
    });
  });

  test("pass rates count learners who pass each task, and sort links toggle direction", () => {
    const m = model({ sort: "score", dir: "asc" });
    expect(m.tasks.map((t) => t.passRate)).toEqual(["50%", "25%", "—"]);
    expect(m.sorts.score).toEqual({ href: "?pick=best&sort=score&dir=desc", ariaSort: "ascending" });
    expect(m.sorts.name.ariaSort).toBe("none");
  });
});

describe("taskCell (a learner's attempts, one row each)", () => {
  test.each([
    { status: "graded", points: 3, max: 3, cell: "pass:3/3" },
    { status: "graded", points: 1, max: 3, cell: "partial:1/3" },
    { status: "graded", points: 0, max: 3, cell: "fail:0/3" },
    { status: "graded", points: 0, max: 0, cell: "advisory:" },
    { status: "not_gradable", points: 0, max: 3, cell: "not-gradable:" },
    { status: "queued", points: 0, max: 3, cell: "none:" },
    { status: "running", points: 2, max: 3, cell: "none:" },
    { status: "superseded", points: 0, max: 3, cell: "none:" },
  ])("$status with $points of $max points: $cell", ({ status, points, max, cell }) => {
    const c = taskCell("1", status, points, max);
    expect(`${c.state}:${c.points}`).toBe(cell);
  });
});
