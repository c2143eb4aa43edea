import type { Redis } from "ioredis";
import { channelFor, type EventSink } from "../db/events.ts";

/**
 * Wakes live streams: the event itself is already committed; subscribers read it back from
 * Postgres. The server and the worker both publish through this.
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
