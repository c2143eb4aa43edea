import { z } from "zod";
import { getCourseRecord, listCourseRecords, type CourseRecord } from "../db/courses.ts";
import type { Db } from "../db/connect.ts";
import { listLabRecords } from "../db/labs.ts";
import type { User } from "../db/schema.ts";
import { getUser } from "../db/users.ts";
import { HttpError, notFound } from "../errors.ts";
import {
  courseMatrix,
  courseOutline,
  courseProgress,
  type CourseMatrix,
  type CourseOutline,
  type CourseProgress,
} from "./course-progress.ts";
import { csvField, gradebookRows, type GradebookRow } from "./gradebook.ts";

const CourseIdSchema = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/);
const LearnerIdSchema = z
  .string()
  .regex(/^\d{1,9}$/)
  .transform(Number);

/** Every course (today the one of labs/course.yaml), with its labs' titles and points. */
export async function listCourses(db: Db): Promise<CourseOutline[]> {
  const [courses, labs] = await Promise.all([listCourseRecords(db), listLabRecords(db)]);
  const byId = new Map(labs.map((l) => [l.id, l]));
  return courses.map((c) => courseOutline(c, byId));
}

/** The course, or a 404 that lists the courses there are. */
export async function requireCourse(db: Db, courseId: unknown): Promise<CourseRecord> {
  const id = CourseIdSchema.safeParse(courseId);
  const course = id.success ? await getCourseRecord(db, id.data) : undefined;
  if (course) return course;
  const known = (await listCourseRecords(db)).map((c) => c.id);
  throw new HttpError(
    404,
    `unknown course ${JSON.stringify(courseId)}; known courses: ${known.join(", ") || "(none)"}`,
  );
}

/** The course the pages show: the first there is (one course file, one course); 404 before a worker recorded it. */
export async function pageCourse(db: Db): Promise<CourseRecord> {
  const [course] = await listCourseRecords(db);
  if (!course) throw new HttpError(404, "No course yet: a worker records labs/course.yaml when it starts.");
  return course;
}

/**
 * Whose progress `user` asks for: their own, or (instructors only) the learner `?learner=` names.
 * A learner naming anyone else is refused, even naming an account that does not exist.
 */
async function progressSubject(db: Db, user: User, learnerParam: unknown): Promise<{ id: number; name: string }> {
  if (learnerParam === undefined) return { id: user.id, name: user.name };
  const id = LearnerIdSchema.safeParse(learnerParam);
  if (user.role !== "instructor" && !(id.success && id.data === user.id))
    throw new HttpError(403, "only instructors may see another learner's progress");
  const learner = id.success ? await getUser(db, id.data) : undefined;
  if (!learner) throw notFound("learner");
  return { id: learner.id, name: learner.name };
}

/** A learner's progress through the course: best score and status per lab, prerequisites, and what to do next. */
export async function learnerCourseProgress(
  db: Db,
  user: User,
  course: CourseRecord,
  learnerParam?: unknown,
): Promise<CourseProgress> {
  const learner = await progressSubject(db, user, learnerParam);
  const labs = new Map((await listLabRecords(db)).map((l) => [l.id, l]));
  const outline = courseOutline(course, labs);
  const best = new Map<string, GradebookRow>();
  for (const lab of outline.modules.flatMap((m) => m.labs)) {
    const [row] = await gradebookRows(db, labs.get(lab.id)!, "best", learner.id);
    if (row) best.set(lab.id, row);
  }
  return courseProgress(outline, learner, best);
}

/** Every learner's best score per lab of the course (instructors' pages check the role). */
export async function cohortCourseMatrix(db: Db, course: CourseRecord): Promise<CourseMatrix> {
  const labs = await listLabRecords(db);
  const outline = courseOutline(course, new Map(labs.map((l) => [l.id, l])));
  const rowsByLab = new Map<string, GradebookRow[]>();
  for (const lab of labs.filter((l) => outline.modules.some((m) => m.labs.some((c) => c.id === l.id))))
    rowsByLab.set(lab.id, await gradebookRows(db, lab, "best"));
  return courseMatrix(outline, rowsByLab);
}

/** The matrix as CSV: one line per learner, their course score and best score per lab (empty: none graded). */
export function courseCsv(matrix: CourseMatrix): string {
  const header = ["user", "course_score", ...matrix.labs.map((l) => `${l.id} (of ${l.maxScore})`)];
  const lines = matrix.rows.map((r) =>
    [r.learner.name, r.score, ...r.modules.flatMap((m) => m.labs.map((l) => l.bestScore))].map(csvField).join(","),
  );
  return `${[header.map(csvField).join(","), ...lines].join("\r\n")}\r\n`;
}
