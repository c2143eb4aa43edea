import { sql } from "kysely";
import { windowDecision } from "../limits/sliding-window.ts";
import type { Db } from "./connect.ts";
import { lockKey } from "./locks.ts";

/** One sliding-window limit applied to one party: at most `limit` hits per `windowMs` under `name`. */
export interface Bucket {
  name: string;
  limit: number;
  windowMs: number;
}

export type HitTaken = { taken: true; hitIds: string[] } | { taken: false; bucket: string; retryAfterMs: number };

/**
 * Counts one hit in every bucket, or in none when any of them is full; then it says which bucket
 * refused and when it frees a place (the longest wait, if several are full). Each bucket is
 * checked and counted under an advisory lock, so requests on several server processes at once
 * never take the same last place. Postgres's clock decides, not each server's.
 */
export async function takeHit(db: Db, buckets: Bucket[]): Promise<HitTaken> {
  return db.transaction().execute(async (tx) => {
    // Always in the same order, so two requests sharing buckets never wait on each other crosswise.
    const ordered = [...buckets].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const b of ordered) await lockKey(tx, "rate-limit", b.name);
    await tx
      .deleteFrom("rate_limit_hits")
      .where(
        "bucket",
        "in",
        ordered.map((b) => b.name),
      )
      .where("expires_at", "<=", sql<Date>`now()`)
      .execute();
    let refusal: { bucket: string; retryAfterMs: number } | undefined;
    for (const b of ordered) {
      const live = await tx
        .selectFrom("rate_limit_hits")
        .select(sql<number>`extract(epoch from expires_at - now()) * 1000`.as("remaining_ms"))
        .where("bucket", "=", b.name)
        .orderBy("expires_at", "desc")
        .limit(b.limit)
        .execute();
      const decision = windowDecision(
        live.map((h) => Number(h.remaining_ms)),
        b.limit,
      );
      if (!decision.allowed && decision.retryAfterMs >= (refusal?.retryAfterMs ?? -1))
        refusal = { bucket: b.name, retryAfterMs: decision.retryAfterMs };
    }
    if (refusal) return { taken: false, ...refusal };
    const rows = await tx
      .insertInto("rate_limit_hits")
      .values(
        ordered.map((b) => ({
          bucket: b.name,
          expires_at: sql<Date>`now() + ${b.windowMs} * interval '1 millisecond'`,
        })),
      )
      .returning("id")
      .execute();
    return { taken: true, hitIds: rows.map((r) => r.id) };
  });
}

/** Takes hits back (they turned out not to count: a sign-in that succeeded). */
export async function returnHits(db: Db, hitIds: string[]): Promise<void> {
  if (hitIds.length > 0) await db.deleteFrom("rate_limit_hits").where("id", "in", hitIds).execute();
}

/** Starts a bucket afresh. */
export async function clearBucket(db: Db, name: string): Promise<void> {
  await db.deleteFrom("rate_limit_hits").where("bucket", "=", name).execute();
}

/** Deletes hits that stopped counting, of buckets nobody asked about since (the worker's retention job). */
export async function deleteExpiredHits(db: Db): Promise<number> {
  const deleted = await db
    .deleteFrom("rate_limit_hits")
    .where("expires_at", "<=", sql<Date>`now()`)
    .executeTakeFirst();
  return Number(deleted.numDeletedRows);
}
