import { performance } from "node:perf_hooks";
import { Router, type Request } from "express";
import type { AppDeps } from "../app.ts";
import { getAttempt } from "../db/attempts.ts";
import { listLabRecords } from "../db/labs.ts";
import { addAttempt } from "../db/submissions.ts";
import { notFound } from "../errors.ts";
import { gradebookCsv, gradebookRows } from "../routes/gradebook/gradebook.ts";
import { requireLab } from "../routes/labs/labs.ts";
import { enqueueAttempt } from "../routes/submissions/submissions.ts";
import { DashboardQuerySchema, dashboardModel, taskMaxima } from "./dashboard.ts";
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
    const lab = await requireLab(db, req.params);
    const query = DashboardQuerySchema.parse(req.query);
    const rows = await gradebookRows(db, lab, query.pick);
    const queried = performance.now();
    const model = dashboardModel(lab, rows, query);
    const modelled = performance.now();
    const html = view.page(req, "instructor/dashboard", { title: `${lab.title}: cohort`, section: "dashboard" }, model);
    const done = performance.now();
    // Server-Timing lets the benchmark (and the browser's devtools) read the server's own time, by stage.
    const timing = [["gradebook", queried - started], ["matrix", modelled - queried], ["render", done - modelled], ["total", done - started]] as const;
    res.set("server-timing", timing.map(([name, ms]) => `${name};dur=${ms.toFixed(1)}`).join(", ")).type("html").send(html);
  });

  router.get("/instructor/labs/:labId/gradebook.csv", async (req, res) => {
    instructor(req);
    const lab = await requireLab(db, req.params);
    const { pick } = DashboardQuerySchema.parse(req.query);
    res.type("text/csv").attachment(`gradebook-${lab.id}-${pick}.csv`).send(gradebookCsv(lab, await gradebookRows(db, lab, pick)));
  });

  router.get("/instructor/labs/:labId/learners/:userId", async (req, res) => {
    instructor(req);
    const lab = await requireLab(db, req.params);
    const learner = /^\d{1,9}$/.test(String(req.params.userId)) ? await db.selectFrom("users").select(["id", "name", "role"]).where("id", "=", Number(req.params.userId)).executeTakeFirst() : undefined;
    if (!learner) throw notFound("learner");
    const attempts = await db.selectFrom("attempts").selectAll().where("lab_id", "=", lab.id).where("user_id", "=", learner.id).orderBy("queued_at", "desc").limit(200).execute();
    const ids = attempts.map((a) => a.id);
    const checks = ids.length === 0 ? [] : await db.selectFrom("check_results").select(["attempt_id", "task", "points", "status", "required"]).where("attempt_id", "in", ids).execute();
    const maxima = taskMaxima(lab);
    const rows = attempts.map((a) => {
      const earned = new Map<string, number>();
      for (const c of checks) if (c.attempt_id === a.id && c.required && c.status === "passed") earned.set(c.task, (earned.get(c.task) ?? 0) + c.points);
      const finished = a.status === "graded";
      return {
        id: a.id,
        status: a.status,
        statusLabel: STATUS_LABELS[a.status],
        score: scoreText(a.score, a.max_score),
        queuedAt: when(a.queued_at),
        regradable: a.status === "graded" || a.status === "not_gradable",
        cells: lab.summary.tasks.map((t) => {
          const max = maxima.get(t.id) ?? 0;
          const points = earned.get(t.id) ?? 0;
          const state = !finished ? (a.status === "not_gradable" ? "not-gradable" : "none") : max === 0 ? "advisory" : points >= max ? "pass" : points > 0 ? "partial" : "fail";
          return { task: t.id, state, points: finished && max > 0 ? `${points}/${max}` : "" };
        }),
      };
    });
    view.send(req, res, "instructor/learner", { title: `${learner.name} on ${lab.title}`, section: "dashboard" }, { lab: { id: lab.id, title: lab.title }, learner, tasks: lab.summary.tasks, attempts: rows });
  });

  router.post("/instructor/attempts/:id/regrade", async (req, res) => {
    instructor(req);
    const attempt = await getAttempt(db, String(req.params.id));
    if (!attempt) throw notFound("attempt");
    const lab = await requireLab(db, { labId: attempt.lab_id });
    const attemptId = await addAttempt(db, attempt.submission_id, lab.versionHash, deps.notify);
    await enqueueAttempt(deps, attemptId);
    await redirectWithNotice(req, res, `/attempts/${attemptId}`, "The submission is queued to be graded again; this is its new attempt.");
  });

  router.post("/instructor/labs/:labId/regrade", async (req, res) => {
    instructor(req);
    const lab = await requireLab(db, req.params);
    // As the API's regrade: every submission with a finished attempt is graded again with the lab as it is now.
    const submissions = await db.selectFrom("attempts").select("submission_id").where("lab_id", "=", lab.id).where("status", "in", ["graded", "not_gradable"]).groupBy("submission_id").execute();
    for (const { submission_id } of submissions) await enqueueAttempt(deps, await addAttempt(db, submission_id, lab.versionHash, deps.notify));
    await redirectWithNotice(req, res, `/instructor/labs/${lab.id}`, `${submissions.length} submission${submissions.length === 1 ? " is" : "s are"} queued to be graded again.`);
  });

  return router;
}
