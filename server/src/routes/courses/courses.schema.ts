import { z } from "zod";
import type { CourseOutline, CourseProgress } from "../../services/course-progress.ts";

export const CourseQuerySchema = z.object({
  /** An instructor's choice of learner (a user id); a learner may name only themselves. */
  learner: z.string().optional(),
});

const CourseLabSchema = z.object({
  id: z.string(),
  title: z.string(),
  /** The lab's share of the course score, relative to the other labs' weights. */
  weight: z.number(),
  /** Labs to finish with full marks first. */
  requires: z.array(z.string()),
  maxScore: z.number(),
});

export const CourseSchema = z.object({
  id: z.string(),
  title: z.string(),
  modules: z.array(z.object({ number: z.number(), title: z.string(), labs: z.array(CourseLabSchema) })),
}) satisfies z.ZodType<CourseOutline>;

const LabProgressSchema = CourseLabSchema.extend({
  status: z.enum(["not_started", "attempted", "full_marks"]),
  /** The best graded attempt's score; null before any graded attempt. */
  bestScore: z.number().nullable(),
  attemptId: z.uuid().nullable(),
  attempts: z.number(),
  prerequisitesMet: z.boolean(),
});

export const CourseProgressSchema = z.object({
  id: z.string(),
  title: z.string(),
  learner: z.object({ id: z.number(), name: z.string() }),
  /** Weighted share of the course's points earned, 0–100. */
  score: z.number(),
  /** The first lab in course order without full marks whose prerequisites are met. */
  next: z.object({ id: z.string(), title: z.string() }).nullable(),
  modules: z.array(z.object({ number: z.number(), title: z.string(), labs: z.array(LabProgressSchema) })),
}) satisfies z.ZodType<CourseProgress>;
