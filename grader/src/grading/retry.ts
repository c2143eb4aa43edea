import type { GradeResult } from "../contracts.ts";

/** Grades once more after a platform fault, as the service's queue does: how many times by default. */
export const PLATFORM_RETRIES = 2;

/**
 * Runs a grade again while the platform could not tell (not_gradable: a cluster that broke, a
 * build over its time limit on a busy host), up to `retries` more times. A learner's failure is
 * never retried: only a grade that decided nothing about the operator is.
 */
export async function gradeUntilGradable(
  grade: (attempt: number) => Promise<GradeResult>,
  retries: number,
  onRetry: (result: GradeResult, attempt: number) => void,
): Promise<GradeResult> {
  for (let attempt = 1; ; attempt++) {
    const result = await grade(attempt);
    if (result.status !== "not_gradable" || attempt > retries) return result;
    onRetry(result, attempt);
  }
}
