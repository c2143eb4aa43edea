import { deleteExpiredHits } from "../db/rate-limits.ts";
import { deleteExpiredLeases } from "../db/stream-leases.ts";
import { deleteSupersededArchives } from "../db/submissions.ts";
import type { Db } from "../db/connect.ts";
import { messageChain } from "../../../grader/src/errors.ts";
import { every } from "./periodic.ts";

const DAY_MS = 24 * 3_600_000;

export interface RetentionOptions {
  db: Db;
  /** How long the archive of a submission that was superseded, and never graded, is kept. */
  archiveRetentionMs: number;
  intervalMs: number;
  log: (line: string) => void;
}

export interface Deleted {
  archives: number;
  blobs: number;
  rateLimitHits: number;
  streamLeases: number;
}

/**
 * Deletes what the gradebook no longer needs: archives of superseded submissions past their
 * retention (in batches, until none is left), rate-limit hits that stopped counting, and stream
 * leases of servers that died. Every worker runs it; they skip each other's rows.
 */
export async function retainOnce(options: Omit<RetentionOptions, "intervalMs">, now = new Date()): Promise<Deleted> {
  const supersededBefore = new Date(now.getTime() - options.archiveRetentionMs);
  const deleted: Deleted = { archives: 0, blobs: 0, rateLimitHits: 0, streamLeases: 0 };
  for (;;) {
    const batch = await deleteSupersededArchives(options.db, supersededBefore);
    deleted.archives += batch.submissions;
    deleted.blobs += batch.blobs;
    if (batch.submissions === 0) break;
  }
  deleted.rateLimitHits = await deleteExpiredHits(options.db);
  deleted.streamLeases = await deleteExpiredLeases(options.db);
  if (deleted.archives > 0)
    options.log(
      `retention: deleted the archives of ${deleted.archives} submission(s) superseded over ${(options.archiveRetentionMs / DAY_MS).toFixed(1)} days ago (${deleted.blobs} blob(s) freed)`,
    );
  return deleted;
}

export function startRetention(options: RetentionOptions): { stop(): Promise<void> } {
  return every(
    options.intervalMs,
    () => retainOnce(options),
    (e) => options.log(`retention failed: ${messageChain(e)}`),
  );
}
