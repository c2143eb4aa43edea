import type { Redis } from "ioredis";
import { ATTEMPT_CHANNEL_PREFIX } from "../db/events.ts";

type Listener = () => void;

/**
 * One Redis subscription for the whole process: workers publish "attempt X has new events" and
 * every open stream of that attempt reads them back from Postgres.
 */
export function createLiveHub(subscriber: Redis) {
  const listeners = new Map<string, Set<Listener>>();
  const prefix = ATTEMPT_CHANNEL_PREFIX;
  void subscriber.psubscribe(`${prefix}*`).catch(() => undefined);
  subscriber.on("pmessage", (_pattern: string, channel: string) => {
    for (const l of listeners.get(channel.slice(prefix.length)) ?? []) l();
  });
  return {
    listen(attemptId: string, listener: Listener): () => void {
      const set = listeners.get(attemptId) ?? new Set();
      set.add(listener);
      listeners.set(attemptId, set);
      return () => {
        set.delete(listener);
        if (set.size === 0) listeners.delete(attemptId);
      };
    },
  };
}
export type LiveHub = ReturnType<typeof createLiveHub>;
