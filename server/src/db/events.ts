import type { Transaction } from "kysely";
import type { Db } from "./connect.ts";
import type { Database } from "./schema.ts";

export interface StoredEvent {
  id: string;
  attemptId: string;
  run: number;
  type: string;
  data: Record<string, unknown>;
  at: string;
}

/** Called after an event is committed: publishes it so live streams wake up. */
export type EventSink = (event: StoredEvent) => Promise<void>;

/** Attempt events are the record of progress; live streams read them back in id order. */
export async function appendEvent(
  db: Db | Transaction<Database>,
  attemptId: string,
  run: number,
  type: string,
  data: Record<string, unknown>,
): Promise<StoredEvent> {
  const row = await db
    .insertInto("attempt_events")
    .values({ attempt_id: attemptId, run, type, data: JSON.stringify(data) })
    .returningAll()
    .executeTakeFirstOrThrow();
  return { id: row.id, attemptId, run, type, data, at: row.created_at.toISOString() };
}

export async function eventsAfter(db: Db, attemptId: string, afterId: string, limit = 500): Promise<StoredEvent[]> {
  const rows = await db
    .selectFrom("attempt_events")
    .selectAll()
    .where("attempt_id", "=", attemptId)
    .where("id", ">", afterId)
    .orderBy("id")
    .limit(limit)
    .execute();
  return rows.map((r) => ({
    id: r.id,
    attemptId: r.attempt_id,
    run: r.run,
    type: r.type,
    data: r.data,
    at: r.created_at.toISOString(),
  }));
}

/** Redis channels that wake an attempt's live streams: the prefix, then the attempt id. */
export const ATTEMPT_CHANNEL_PREFIX = "labgrader:attempt:";
export const channelFor = (attemptId: string) => `${ATTEMPT_CHANNEL_PREFIX}${attemptId}`;
