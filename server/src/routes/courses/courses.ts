import { Router } from "express";
import { currentUser } from "../../auth.ts";
import type { Db } from "../../db/connect.ts";
import { HttpError } from "../../errors.ts";
import { learnerCourseProgress, listCourses, requireCourse } from "../../services/courses.ts";
import { CourseQuerySchema } from "./courses.schema.ts";

export function coursesRouter(db: Db): Router {
  const router = Router();
  router.get("/courses", async (_req, res) => {
    res.json({ courses: await listCourses(db) });
  });
  router.get("/courses/:courseId", async (req, res) => {
    const user = currentUser(req);
    const query = CourseQuerySchema.safeParse(req.query);
    if (!query.success) throw new HttpError(400, "a course takes at most ?learner=<user id>", query.error.issues);
    const course = await requireCourse(db, req.params.courseId);
    res.json(await learnerCourseProgress(db, user, course, query.data.learner));
  });
  return router;
}
