import { z } from "zod";
import { CheckResultSchema } from "../../../../grader/src/contracts.ts";

export const AttemptListQuerySchema = z.object({ user: z.coerce.number().int().optional() });

/** queued | running | graded | not_gradable, and superseded when a newer submission replaced it unstarted. */
export const AttemptStatusSchema = z.enum(["queued", "running", "graded", "not_gradable", "superseded"]);

/** A check as the API shows it: the grader's result, with a link to its evidence instead of the evidence. */
export const AttemptCheckSchema = CheckResultSchema.omit({ evidence: true }).extend({
  evidenceUrl: z.string().optional(),
});

export const AttemptSchema = z.object({
  id: z.uuid(),
  submissionId: z.uuid(),
  lab: z.string(),
  userId: z.number(),
  status: AttemptStatusSchema,
  phase: z.enum(["queued", "building", "provisioning", "deploying", "checking", "reporting", "done"]),
  score: z.number().nullable(),
  maxScore: z.number().nullable(),
  reason: z.string().optional(),
  findings: z.array(z.string()),
  runs: z.number(),
  phases: z.record(z.string(), z.string()),
  checks: z.array(AttemptCheckSchema),
  logUrl: z.string().optional(),
});
export type AttemptView = z.infer<typeof AttemptSchema>;
