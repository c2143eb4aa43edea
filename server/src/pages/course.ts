import { Router } from "express";
import type { AppDeps } from "../app.ts";
import type { CourseMatrix, CourseProgress, LabStatus } from "../services/course-progress.ts";
import { cohortCourseMatrix, courseCsv, learnerCourseProgress, pageCourse } from "../services/courses.ts";
import { scoreText } from "./format.ts";
import type { Renderer } from "./render.ts";
import { pageUser } from "./session.ts";

/** How a lab's standing reads on the pages. */
export const LAB_STATUS_LABELS: Record<LabStatus, string> = {
  not_started: "Not started",
  attempted: "Attempted",
  full_marks: "Full marks",
};

/** A matrix cell's colour, as the cohort dashboard's cells (app.css): full marks pass, some points partly. */
function cellState(status: LabStatus, bestScore: number | null): "pass" | "partial" | "fail" | "none" {
  if (status === "full_marks") return "pass";
  if (status === "not_started") return "none";
  return bestScore !== null && bestScore > 0 ? "partial" : "fail";
}

/** The learner's course page: modules in order, each lab's best score and standing, and what is next. */
export function courseModel(progress: CourseProgress) {
  const titles = new Map(progress.modules.flatMap((m) => m.labs.map((l) => [l.id, l.title] as const)));
  const statuses = new Map(progress.modules.flatMap((m) => m.labs.map((l) => [l.id, l.status] as const)));
  return {
    course: { id: progress.id, title: progress.title, score: `${progress.score}%` },
    learner: progress.learner,
    next: progress.next ?? undefined,
    modules: progress.modules.map((m) => ({
      number: m.number,
      title: m.title,
      labs: m.labs.map((l) => ({
        id: l.id,
        title: l.title,
        status: l.status,
        statusLabel: LAB_STATUS_LABELS[l.status],
        best: scoreText(l.bestScore, l.maxScore),
        isNext: progress.next?.id === l.id,
        locked: !l.prerequisitesMet,
        requires: l.requires.map((id) => ({
          id,
          title: titles.get(id) ?? id,
          met: statuses.get(id) === "full_marks",
        })),
      })),
    })),
  };
}

/** The instructor's matrix: learners by labs, best score per cell, linking to each lab's and learner's page. */
export function courseMatrixModel(matrix: CourseMatrix) {
  return {
    labs: matrix.labs.map((l) => ({ id: l.id, title: l.title, maxScore: l.maxScore })),
    rows: matrix.rows.map((r) => ({
      userId: r.learner.id,
      user: r.learner.name,
      score: `${r.score}%`,
      next: r.next?.title ?? "done",
      cells: r.modules.flatMap((m) =>
        m.labs.map((l) => ({
          labId: l.id,
          userId: r.learner.id,
          state: cellState(l.status, l.bestScore),
          label: LAB_STATUS_LABELS[l.status],
          best: scoreText(l.bestScore, l.maxScore),
        })),
      ),
    })),
  };
}

/** The course for learners (theirs) and instructors (the cohort's matrix and its CSV). */
export function coursePages(deps: Pick<AppDeps, "db">, view: Renderer): Router {
  const router = Router();
  const { db } = deps;

  router.get("/course", async (req, res) => {
    const user = pageUser(req);
    const course = await pageCourse(db);
    const progress = await learnerCourseProgress(db, user, course);
    view.send(req, res, "learner/course", { title: progress.title, section: "course" }, courseModel(progress));
  });

  router.get("/instructor/course", async (req, res) => {
    pageUser(req, "instructor");
    const course = await pageCourse(db);
    const matrix = await cohortCourseMatrix(db, course);
    view.send(
      req,
      res,
      "instructor/course",
      { title: `${course.title}: cohort`, section: "dashboard" },
      { course: { id: course.id, title: course.title }, ...courseMatrixModel(matrix) },
    );
  });

  router.get("/instructor/course.csv", async (req, res) => {
    pageUser(req, "instructor");
    const course = await pageCourse(db);
    res
      .type("text/csv")
      .attachment(`course-${course.id}.csv`)
      .send(courseCsv(await cohortCourseMatrix(db, course)));
  });

  return router;
}
