/**
 * The platform failed (a cluster did not start, the API server answered 5xx, our own code timed
 * out): the grade is not gradable and is retried, never a zero for the learner.
 */
export class PlatformFault extends Error {}

/**
 * The learner's project is at fault (it does not build, its CRDs or role are invalid, the API
 * server refused what it asked for): the grade completes, and the checks it kept from being
 * decided fail, saying why. Never retried.
 */
export class LearnerFault extends Error {}

/** An error and its causes, one message each: "while X: while Y: the root cause". */
export function messageChain(error: unknown): string {
  const parts: string[] = [];
  for (
    let e: unknown = error;
    e !== undefined && e !== null && parts.length < 8;
    e = (e as { cause?: unknown }).cause
  ) {
    parts.push(e instanceof Error ? e.message : String(e));
  }
  return parts.join(": ");
}
