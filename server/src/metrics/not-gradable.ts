/**
 * Why attempts were not gradable, in a few words fit for a metric's label: the gradebook keeps a
 * reason's full text (with ids, paths and error chains), which would make a series per attempt.
 * The patterns follow the messages the grader writes (grader/src/grading/grade.ts,
 * server/src/worker/grade-attempt.ts) and BullMQ's for a job whose workers kept dying.
 */
export type NotGradableClass =
  | "disk_full"
  | "build_timeout"
  | "cluster"
  | "deploy"
  | "sandbox"
  | "archive"
  | "lab_not_loaded"
  | "invalid_job"
  | "worker_lost"
  | "internal"
  | "check_error"
  | "other";

/** First match wins: a retried fault's message ("while grading attempt …: could not provision …") names its cause inside. */
const PATTERNS: [NotGradableClass, RegExp][] = [
  ["disk_full", /no space left on device|ENOSPC|MiB of disk left where it grades|ran out of disk on this host/i],
  ["build_timeout", /build did not finish within/],
  ["cluster", /could not provision a \S+ cluster/],
  ["deploy", /could not deploy the operator|runs operators in the cluster, but this grader has no/],
  ["sandbox", /sandbox/i],
  ["archive", /archive of submission \S+ (is missing|was deleted)/],
  ["lab_not_loaded", /is not loaded by this worker/],
  ["invalid_job", /invalid grading job|submission \S+ is not in the gradebook/],
  ["worker_lost", /job stalled more than allowable limit/],
  ["internal", /grading failed:/],
];

/** A reason's class; no reason at all means a check ended in error while the grade itself finished. */
export function notGradableClass(reason: string | null): NotGradableClass {
  if (reason === null) return "check_error";
  return PATTERNS.find(([, pattern]) => pattern.test(reason))?.[0] ?? "other";
}
