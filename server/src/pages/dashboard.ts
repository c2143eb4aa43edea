import { z } from "zod";
import type { LabRecord } from "../db/labs.ts";
import type { GradebookRow } from "../services/gradebook.ts";
import { STATUS_LABELS, scoreText } from "./format.ts";

export const DashboardQuerySchema = z.object({
  /** best: each learner's highest-scoring graded attempt; latest: their newest finished one. */
  pick: z.enum(["best", "latest"]).catch("best"),
  /** "name", "score", "attempts" or "task:<id>". */
  sort: z.string().max(80).catch("name"),
  dir: z.enum(["asc", "desc"]).catch("asc"),
  /** Part of a learner's name. */
  q: z.string().trim().max(64).catch(""),
  /** Learners with this status; "none" for those with no finished attempt. */
  status: z.enum(["", "graded", "not_gradable", "none", "full", "incomplete"]).catch(""),
  /** Only learners who do not yet pass this task. */
  failing: z.string().max(64).catch(""),
});
export type DashboardQuery = z.infer<typeof DashboardQuerySchema>;

type CellState = "pass" | "partial" | "fail" | "not-gradable" | "none" | "advisory";
const CELL_LABELS: Record<CellState, string> = {
  pass: "pass",
  partial: "partly",
  fail: "fail",
  "not-gradable": "not gradable",
  none: "no attempt",
  advisory: "advisory only",
};

/** Points of a task's required checks: what "passing the task" means in the matrix. */
export const taskMaxima = (lab: LabRecord) => {
  const max = new Map(lab.summary.tasks.map((t) => [t.id, 0]));
  for (const c of lab.summary.checks) if (c.required) max.set(c.task, (max.get(c.task) ?? 0) + c.points);
  return max;
};

function cellState(status: string | null, points: number, max: number): CellState {
  if (status === "not_gradable") return "not-gradable";
  if (status !== "graded") return "none";
  if (max === 0) return "advisory";
  return points >= max ? "pass" : points > 0 ? "partial" : "fail";
}

/** One task of one attempt in a matrix: an attempt neither graded nor not gradable counts as none. */
export function taskCell(task: string, status: string | null, points: number, max: number) {
  const state = cellState(status, points, max);
  return {
    task,
    state,
    label: CELL_LABELS[state],
    points: state === "none" || state === "not-gradable" || state === "advisory" ? "" : `${points}/${max}`,
  };
}

const passesTask = (row: GradebookRow, task: string, max: number) =>
  row.status === "graded" && (row.tasks[task] ?? 0) >= max;

function keep(row: GradebookRow, q: DashboardQuery, maxima: Map<string, number>): boolean {
  if (q.q && !row.user.toLowerCase().includes(q.q.toLowerCase())) return false;
  if (q.failing && maxima.has(q.failing) && passesTask(row, q.failing, maxima.get(q.failing)!)) return false;
  switch (q.status) {
    case "":
      return true;
    case "none":
      return row.status === null;
    case "full":
      return row.status === "graded" && row.score === row.maxScore;
    case "incomplete":
      return row.status !== "graded" || row.score !== row.maxScore;
    default:
      return row.status === q.status;
  }
}

function sortKey(row: GradebookRow, sort: string): number | string {
  if (sort === "score") return row.score ?? -1;
  if (sort === "attempts") return row.attempts;
  if (sort.startsWith("task:")) return row.status === null ? -1 : (row.tasks[sort.slice(5)] ?? 0);
  return row.user.toLowerCase();
}

/**
 * The cohort matrix: learners × tasks, filtered and sorted on the server so it works without
 * JavaScript and a link reproduces exactly what the instructor saw.
 */
export function dashboardModel(lab: LabRecord, rows: GradebookRow[], q: DashboardQuery) {
  const maxima = taskMaxima(lab);
  const visible = rows.filter((r) => keep(r, q, maxima));
  const sign = q.dir === "desc" ? -1 : 1;
  visible.sort((a, b) => {
    const [x, y] = [sortKey(a, q.sort), sortKey(b, q.sort)];
    return (x < y ? -1 : x > y ? 1 : 0) * sign || a.user.localeCompare(b.user);
  });
  const link = (sort: string) => {
    const dir = q.sort === sort && q.dir === "asc" ? "desc" : "asc";
    const params = new URLSearchParams({
      pick: q.pick,
      sort,
      dir,
      ...(q.q ? { q: q.q } : {}),
      ...(q.status ? { status: q.status } : {}),
      ...(q.failing ? { failing: q.failing } : {}),
    });
    return { href: `?${params}`, ariaSort: q.sort === sort ? (q.dir === "asc" ? "ascending" : "descending") : "none" };
  };
  const tasks = lab.summary.tasks.map((t) => {
    const max = maxima.get(t.id) ?? 0;
    const passing = rows.filter((r) => passesTask(r, t.id, max)).length;
    return {
      id: t.id,
      title: t.title,
      max,
      passRate: rows.length === 0 || max === 0 ? "—" : `${Math.round((passing / rows.length) * 100)}%`,
      sort: link(`task:${t.id}`),
      failingSelected: q.failing === t.id,
    };
  });
  return {
    lab: { id: lab.id, title: lab.title, maxScore: lab.summary.maxScore },
    query: { ...q, best: q.pick === "best", latest: q.pick === "latest", [`status_${q.status || "all"}`]: true },
    sorts: { name: link("name"), score: link("score"), attempts: link("attempts") },
    tasks,
    learnerCount: rows.length,
    shownCount: visible.length,
    rows: visible.map((r) => ({
      userId: r.userId,
      user: r.user,
      attempts: r.attempts,
      attemptId: r.attemptId,
      status: r.status ?? "none",
      statusLabel: r.status ? STATUS_LABELS[r.status as keyof typeof STATUS_LABELS] : "No finished attempt",
      score: scoreText(r.score, r.maxScore),
      cells: lab.summary.tasks.map((t) => taskCell(t.id, r.status, r.tasks[t.id] ?? 0, maxima.get(t.id) ?? 0)),
    })),
  };
}
