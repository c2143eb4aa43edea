import type { Db } from "../db/connect.ts";
import { releaseStreamLease, renewStreamLease, takeStreamLease } from "../db/stream-leases.ts";
import { TooManyRequests } from "../errors.ts";

/** An open stream renews its lease this often (with its heartbeat); a lease not renewed for LEASE_MS lapses. */
export const STREAM_RENEW_MS = 15_000;
const LEASE_MS = 4 * STREAM_RENEW_MS;
/** What a refused stream is told: places free as streams close, which we cannot foresee. */
const RETRY_AFTER_MS = 30_000;

export interface StreamLease {
  renew(): Promise<void>;
  release(): Promise<void>;
}

/**
 * Open event streams per user, the API's and the pages' together, across every server process:
 * each stream holds a lease in Postgres while it is open and gives it back when it closes.
 */
export function createStreamGate(db: Db, perUser: number) {
  return {
    /** A place for one more open stream of this user, or 429. */
    async open(userId: number): Promise<StreamLease> {
      const taken = await takeStreamLease(db, userId, perUser, LEASE_MS);
      if ("full" in taken)
        throw new TooManyRequests(
          `You already follow ${perUser} attempts live, the most at once. Close one of those pages (or streams) and try again.`,
          RETRY_AFTER_MS,
        );
      return {
        renew: () => renewStreamLease(db, taken.leaseId, userId, LEASE_MS),
        release: () => releaseStreamLease(db, taken.leaseId),
      };
    },
  };
}
export type StreamGate = ReturnType<typeof createStreamGate>;
