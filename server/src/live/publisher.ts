import type { Redis } from "ioredis";
import { channelFor, type EventSink } from "../db/events.ts";

/**
 * Wakes live streams: the event itself is already committed; subscribers read it back from
 * Postgres. The worker's grader/src/jobs/publish.ts is still a copy of this: it was left alone
 * while the worker moves to server/src/worker/, from where it can import this one.
 */
export function createEventPublisher(redis: Redis, log: (line: string) => void): EventSink {
  return async (event) => {
    try {
      await redis.publish(channelFor(event.attemptId), event.id);
    } catch (e) {
      // A missed wake-up only delays a live page until its next poll; the record is in Postgres.
      log(`could not publish event ${event.id} of attempt ${event.attemptId}: ${String(e)}`);
    }
  };
}
