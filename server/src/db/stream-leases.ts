import { sql } from "kysely";
import type { Db } from "./connect.ts";
import { lockKey } from "./locks.ts";

const expiresIn = (ms: number) => sql<Date>`now() + ${ms} * interval '1 millisecond'`;

/**
 * Takes one of a user's `max` places for an open event stream, for `leaseMs` unless renewed, or
 * says they are all taken. Leases of servers that died expire and no longer count. Counted under
 * an advisory lock, so two servers never both take the last place.
 */
export async function takeStreamLease(
  db: Db,
  userId: number,
  max: number,
  leaseMs: number,
): Promise<{ leaseId: string } | { full: true }> {
  return db.transaction().execute(async (tx) => {
    await lockKey(tx, "stream-leases", userId);
    await tx
      .deleteFrom("stream_leases")
      .where("user_id", "=", userId)
      .where("expires_at", "<=", sql<Date>`now()`)
      .execute();
    const { open } = await tx
      .selectFrom("stream_leases")
      .select((eb) => eb.fn.countAll<string>().as("open"))
      .where("user_id", "=", userId)
      .executeTakeFirstOrThrow();
    if (Number(open) >= max) return { full: true };
    const lease = await tx
      .insertInto("stream_leases")
      .values({ user_id: userId, expires_at: expiresIn(leaseMs) })
      .returning("id")
      .executeTakeFirstOrThrow();
    return { leaseId: lease.id };
  });
}

/** Keeps an open stream's place; a lease already expired (its server stalled) is taken again. */
export async function renewStreamLease(db: Db, leaseId: string, userId: number, leaseMs: number): Promise<void> {
  await db
    .insertInto("stream_leases")
    .values({ id: leaseId, user_id: userId, expires_at: expiresIn(leaseMs) })
    .onConflict((c) => c.column("id").doUpdateSet({ expires_at: expiresIn(leaseMs) }))
    .execute();
}

export async function releaseStreamLease(db: Db, leaseId: string): Promise<void> {
  await db.deleteFrom("stream_leases").where("id", "=", leaseId).execute();
}

/** Deletes the leases of streams whose server died (the worker's retention job). */
export async function deleteExpiredLeases(db: Db): Promise<number> {
  const deleted = await db
    .deleteFrom("stream_leases")
    .where("expires_at", "<=", sql<Date>`now()`)
    .executeTakeFirst();
  return Number(deleted.numDeletedRows);
}
