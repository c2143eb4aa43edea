import { performance } from "node:perf_hooks";
import { Router, type Request } from "express";
import type { AppDeps } from "../app.ts";
import { listLabRecords } from "../db/labs.ts";
import { regradeAttempt, regradeLab } from "../services/attempts.ts";
import { gradebookCsv, gradebookRows, learnerAttempts } from "../services/gradebook.ts";
import { requireLab } from "../services/labs.ts";
import { DashboardQuerySchema, dashboardModel, taskCell, taskMaxima } from "./dashboard.ts";
import { STATUS_LABELS, scoreText, when } from "./format.ts";
import type { Renderer } from "./render.ts";
import { pageUser, redirectWithNotice } from "./session.ts";

type InstructorDeps = Pick<AppDeps, "db" | "queue" | "notify" | "log">;

/** The cohort dashboard, a learner's attempts, the gradebook as CSV, and regrades. Instructors only. */
export function instructorPages(deps: InstructorDeps, view: Renderer): Router {
  const router = Router();
  const { db } = deps;
  const instructor = (req: Request) => pageUser(req, "instructor");

  router.get("/instructor", async (req, res) => {
    instructor(req);
    const labs = await listLabRecords(db);
    if (labs.length === 1) return res.redirect(303, `/instructor/labs/${labs[0]!.id}`);
    view.send(req, res, "instructor/labs", { title: "Labs", section: "dashboard" }, { labs });
  });

  router.get("/instructor/labs/:labId", async (req, res) => {
    instructor(req);
    const started = performance.now();
    const lab = await requireLab(db, req.params.labId);
    const query = DashboardQuerySchema.parse(req.query);
    const rows = await gradebookRows(db, lab, query.pick);
    const queried = performance.now();
    const model = dashboardModel(lab, rows, query);
    const modelled = performance.now();
    const html = view.page(req, "instructor/dashboard", { title: `${lab.title}: cohort`, section: "dashboard" }, model);
    const done = performance.now();
    // Server-Timing lets the benchmark (and the browser's devtools) read the server's own time, by stage.
    const timing = [
      ["gradebook", queried - started],
      ["matrix", modelled - queried],
      ["render", done - modelled],
      ["total", done - started],
    ] as const;
    res
      .set("server-timing", timing.map(([name, ms]) => `${name};dur=${ms.toFixed(1)}`).join(", "))
      .type("html")
      .send(html);
  });

  router.get("/instructor/labs/:labId/gradebook.csv", async (req, res) => {
    instructor(req);
    const lab = await requireLab(db, req.params.labId);
    const { pick } = DashboardQuerySchema.parse(req.query);
    const rows = await gradebookRows(db, lab, pick);
    res.type("text/csv").attachment(`gradebook-${lab.id}-${pick}.csv`).send(gradebookCsv(lab, rows));
  });

  router.get("/instructor/labs/:labId/learners/:userId", async (req, res) => {
    instructor(req);
    const lab = await requireLab(db, req.params.labId);
    const { learner, attempts } = await learnerAttempts(db, lab, req.params.userId);
    const maxima = taskMaxima(lab);
    const rows = attempts.map(({ attempt: a, tasks }) => ({
      id: a.id,
      status: a.status,
      statusLabel: STATUS_LABELS[a.status],
      score: scoreText(a.score, a.max_score),
      queuedAt: when(a.queued_at),
      regradable: a.status === "graded" || a.status === "not_gradable",
      cells: lab.summary.tasks.map((t) => taskCell(t.id, a.status, tasks[t.id] ?? 0, maxima.get(t.id) ?? 0)),
    }));
    view.send(
      req,
      res,
      "instructor/learner",
      { title: `${learner.name} on ${lab.title}`, section: "dashboard" },
      { lab: { id: lab.id, title: lab.title }, learner, tasks: lab.summary.tasks, attempts: rows },
    );
  });

  router.post("/instructor/attempts/:id/regrade", async (req, res) => {
    const attemptId = await regradeAttempt(deps, instructor(req), req.params.id);
    await redirectWithNotice(
      req,
      res,
      `/attempts/${attemptId}`,
      "The submission is queued to be graded again; this is its new attempt.",
    );
  });

  router.post("/instructor/labs/:labId/regrade", async (req, res) => {
    instructor(req);
    const lab = await requireLab(db, req.params.labId);
    const regraded = (await regradeLab(deps, lab)).length;
    // The course matrix regrades a lab too, and is where its instructor comes back to.
    const fromCourse = (req.body as { from?: unknown } | undefined)?.from === "course";
    await redirectWithNotice(
      req,
      res,
      fromCourse ? "/instructor/course" : `/instructor/labs/${lab.id}`,
      `${regraded} submission${regraded === 1 ? " is" : "s are"} queued to be graded again.`,
    );
  });

  return router;
}
