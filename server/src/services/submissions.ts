import type { Queue } from "bullmq";
import { z } from "zod";
import { GRADE_JOB, GRADE_JOB_OPTIONS, gradeJobId } from "../../../grader/src/contracts.ts";
import { canRead } from "../auth.ts";
import type { Db } from "../db/connect.ts";
import type { EventSink } from "../db/events.ts";
import type { Attempt, User } from "../db/schema.ts";
import {
  acceptSubmission,
  attemptsOfSubmission,
  getSubmission,
  type AcceptedSubmission,
  type NewSubmission,
} from "../db/submissions.ts";
import { notFound } from "../errors.ts";

/** What accepting work and queueing its grade needs. */
export interface GradeQueueDeps {
  db: Db;
  queue: Queue;
  /** Wakes the live streams of an attempt once its events are committed. */
  notify: EventSink;
  log: (line: string) => void;
}

/** An image a learner built and pushed themselves (graded on kind only). */
export const ImageReferenceSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._\-/:@]{0,254}$/i, "an image reference like registry.example.com/me/postgres-operator:v1");

/** Enqueues after the commit; if Redis is down the sweeper enqueues it later, so the acceptance stands. */
export async function enqueueAttempt(deps: Pick<GradeQueueDeps, "queue" | "log">, attemptId: string): Promise<void> {
  try {
    await deps.queue.add(GRADE_JOB, { attemptId }, { ...GRADE_JOB_OPTIONS, jobId: gradeJobId(attemptId) });
  } catch (e) {
    deps.log(`attempt ${attemptId} accepted but not enqueued (the sweeper will): ${String(e)}`);
  }
}

/**
 * Accepts a submission: commits it with its first attempt, superseding the learner's attempts of
 * the lab still waiting in the queue, drops their jobs, and enqueues the new attempt.
 */
export async function submit(deps: GradeQueueDeps, submission: NewSubmission): Promise<AcceptedSubmission> {
  const accepted = await acceptSubmission(deps.db, submission, deps.notify);
  // A superseded attempt's job would only find it finished: removing it frees the queue sooner.
  for (const old of accepted.superseded) await deps.queue.remove(gradeJobId(old)).catch(() => undefined);
  await enqueueAttempt(deps, accepted.attemptId);
  return accepted;
}

/** The submission and its attempts (newest first) if this user may read it; otherwise 404. */
export async function readableSubmission(db: Db, user: User, submissionId: unknown) {
  const id = z.uuid().safeParse(submissionId);
  const submission = id.success ? await getSubmission(db, id.data) : undefined;
  if (!submission || !canRead(user, submission.user_id)) throw notFound("submission");
  const attempts: Attempt[] = await attemptsOfSubmission(db, submission.id);
  return { submission, attempts };
}
