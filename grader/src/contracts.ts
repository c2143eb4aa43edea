import { z } from "zod";

/** Shared between the grader and the server: the only grader module the server may import. */

/**
 * Where the operator under test runs: as a host process beside the cluster, as `make run` does
 * (kwok has no kubelets), or in the cluster from an image, as `make deploy` does (kind).
 */
export type OperatorMode = "host" | "in-cluster";

/**
 * The cluster providers and what each can do: the one list of their names (configuration, cluster
 * records, results), and the capabilities the service chooses by without importing a provider.
 */
export const PROVIDERS = {
  kwok: { operatorMode: "host" },
  kind: { operatorMode: "in-cluster" },
  kubeconfig: { operatorMode: "host" },
} as const satisfies Record<string, { operatorMode: OperatorMode }>;

export type ProviderName = keyof typeof PROVIDERS;
export const ProviderNameSchema = z.enum(Object.keys(PROVIDERS) as [ProviderName, ...ProviderName[]]);

export const CheckStatusSchema = z.enum(["passed", "failed", "error"]);
export type CheckStatus = z.infer<typeof CheckStatusSchema>;

export const TimelineItemSchema = z.object({
  at: z.number(),
  seq: z.number(),
  type: z.enum(["ADDED", "MODIFIED", "DELETED"]),
  kind: z.string(),
  name: z.string(),
  summary: z.string(),
});

export const CheckEvidenceSchema = z.object({
  /** The relevant objects when the check was decided. */
  objects: z.array(z.record(z.string(), z.unknown())),
  /** The relevant slice of the trace. */
  timeline: z.array(TimelineItemSchema),
  /** Events about those objects. */
  events: z.array(
    z.object({ at: z.number(), type: z.string(), reason: z.string(), message: z.string(), regarding: z.string() }),
  ),
  /** The operator's log lines before the decision. */
  logs: z.array(z.object({ at: z.number(), text: z.string() })),
});
export type CheckEvidence = z.infer<typeof CheckEvidenceSchema>;

export const CheckResultSchema = z.object({
  id: z.string(),
  task: z.string(),
  title: z.string(),
  /** Required checks count toward the score; advisory ones are feedback. */
  required: z.boolean(),
  points: z.number(),
  /** passed; failed (the learner's operator did not do it); error (the platform could not tell: not gradable). */
  status: CheckStatusSchema,
  message: z.string(),
  hint: z.string(),
  expected: z.string().optional(),
  actual: z.string().optional(),
  scenario: z.string().optional(),
  /** Milliseconds from the grade's start to the decision. */
  decidedAtMs: z.number(),
  evidence: CheckEvidenceSchema.optional(),
});
export type CheckResult = z.infer<typeof CheckResultSchema>;

/** What checks are worth: the points of the required ones (advisory checks are feedback, worth nothing). */
export function requiredPoints(checks: readonly Pick<CheckResult, "required" | "points">[]): number {
  return checks.filter((c) => c.required).reduce((sum, c) => sum + c.points, 0);
}

export const GradeResultSchema = z.object({
  lab: z.string(),
  labTitle: z.string(),
  provider: ProviderNameSchema,
  operator: z.string(),
  /** graded: every check was decided; not_gradable: the platform failed (never a zero for the learner). */
  status: z.enum(["graded", "not_gradable"]),
  reason: z.string().optional(),
  score: z.number(),
  maxScore: z.number(),
  startedAt: z.string(),
  durationMs: z.number(),
  /** Milliseconds the grade waited for a slot of the host's budget before it started (not part of durationMs). */
  waitedMs: z.number().optional(),
  /** Things the learner should know that are no single check: a build error, the operator crashing, a 403. */
  findings: z.array(z.string()),
  checks: z.array(CheckResultSchema),
});
export type GradeResult = z.infer<typeof GradeResultSchema>;

/** Progress of one grade, published as it happens. */
export type GradeProgress =
  | { type: "phase"; phase: "building" | "provisioning" | "deploying" | "checking" | "reporting"; at: number }
  | { type: "check"; result: CheckResult }
  /** The operator's `go build` ended: how long it took from the moment it had a build slot, and whether it built. */
  | { type: "build"; ok: boolean; timedOut: boolean; durationMs: number; at: number }
  /** The grade waits for its turn in the host's budget: `ahead` others first, `held` of `size` slots in use. */
  | { type: "waiting"; slot: "grade" | "build"; ahead: number; held: number; size: number; at: number }
  | { type: "log"; message: string; at: number };

/** The queue grading jobs go through, and its one job type. */
export const GRADE_QUEUE = "labgrader-grade";
export const GRADE_JOB = "grade";

/** A grading job names the attempt; everything else is read from the gradebook when it runs. */
export const GradeJobSchema = z.object({ attemptId: z.uuid() });
export type GradeJob = z.infer<typeof GradeJobSchema>;

/** Deterministic, so enqueuing an attempt twice makes one job. */
export const gradeJobId = (attemptId: string) => `grade-${attemptId}`;

/** Retries are for platform faults only (a learner's failure completes the job); backoff in ms. */
export const GRADE_JOB_OPTIONS = {
  attempts: 3,
  backoff: { type: "exponential", delay: 10_000 },
  removeOnComplete: { age: 24 * 3600 },
  removeOnFail: { age: 7 * 24 * 3600 },
} as const;
