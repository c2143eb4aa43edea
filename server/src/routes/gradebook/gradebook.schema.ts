import { z } from "zod";
import type { GradebookRow } from "../../services/gradebook.ts";

export const GradebookQuerySchema = z.object({
  lab: z.string().min(1),
  format: z.enum(["json", "csv"]).default("json"),
  /** best: each learner's highest-scoring graded attempt; latest: their newest finished one. */
  pick: z.enum(["best", "latest"]).default("best"),
});

export const GradebookRowSchema = z.object({
  userId: z.number(),
  user: z.string(),
  attempts: z.number(),
  attemptId: z.uuid().nullable(),
  status: z.string().nullable(),
  score: z.number().nullable(),
  maxScore: z.number(),
  /** Points earned per task (required checks only). */
  tasks: z.record(z.string(), z.number()),
}) satisfies z.ZodType<GradebookRow>;
