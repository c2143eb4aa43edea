import type { Queue } from "bullmq";
import { GRADE_JOB, GRADE_JOB_OPTIONS, gradeJobId } from "../../../grader/src/contracts.ts";
import { waitingAttempts } from "../db/attempts.ts";
import type { Db } from "../db/connect.ts";
import { every } from "./periodic.ts";

export interface SweeperOptions {
  db: Db;
  queue: Queue;
  /** Attempts younger than this are left alone: the service is probably enqueuing them right now. */
  graceMs: number;
  intervalMs: number;
  log: (line: string) => void;
}

/**
 * The gradebook is the record; Redis is only the delivery. An attempt that is waiting in Postgres
 * but has no job in Redis (the service died between commit and enqueue, or Redis lost its data)
 * gets its job again. Job ids are deterministic, so a job that does exist is never doubled.
 */
export async function sweepOnce(options: Omit<SweeperOptions, "intervalMs">): Promise<string[]> {
  const requeued: string[] = [];
  for (const attemptId of await waitingAttempts(options.db, options.graceMs)) {
    const job = await options.queue.getJob(gradeJobId(attemptId));
    const state = job ? await job.getState() : undefined;
    if (state && state !== "completed" && state !== "failed" && state !== "unknown") continue;
    if (job) await job.remove().catch(() => undefined);
    await options.queue.add(GRADE_JOB, { attemptId }, { ...GRADE_JOB_OPTIONS, jobId: gradeJobId(attemptId) });
    requeued.push(attemptId);
  }
  if (requeued.length > 0)
    options.log(`re-enqueued ${requeued.length} attempt(s) that had no job: ${requeued.join(", ")}`);
  return requeued;
}

export function startSweeper(options: SweeperOptions): { stop(): Promise<void> } {
  return every(
    options.intervalMs,
    () => sweepOnce(options),
    (e) => options.log(`sweep failed: ${String(e)}`),
  );
}
