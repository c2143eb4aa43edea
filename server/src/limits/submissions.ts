import type { Db } from "../db/connect.ts";
import { takeHit } from "../db/rate-limits.ts";
import { TooManyRequests } from "../errors.ts";
import { durationText } from "./sliding-window.ts";

export interface SubmissionLimits {
  perWindow: number;
  windowMs: number;
}

/**
 * Submissions per account within a sliding window, counted before the upload is even read:
 * every submission costs the service (receiving, unpacking and checking an archive, then a
 * grade), whether or not it is accepted in the end.
 */
export function createSubmissionGate(db: Db, limits: SubmissionLimits) {
  return {
    /** Counts one submission of this account, or throws 429 with when the next one fits. */
    async admit(userId: number): Promise<void> {
      const hit = await takeHit(db, [
        { name: `submissions:${userId}`, limit: limits.perWindow, windowMs: limits.windowMs },
      ]);
      if (hit.taken) return;
      throw new TooManyRequests(
        `You have submitted ${limits.perWindow} times in the last ${durationText(limits.windowMs)}, the most allowed; you can submit again in ${durationText(hit.retryAfterMs)}.`,
        hit.retryAfterMs,
      );
    },
  };
}
export type SubmissionGate = ReturnType<typeof createSubmissionGate>;
