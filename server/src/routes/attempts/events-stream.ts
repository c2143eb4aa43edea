import type { Request, Response } from "express";
import type { Db } from "../../db/connect.ts";
import { eventsAfter } from "../../db/events.ts";
import type { LiveHub } from "../../live.ts";

/** A stream whose wake-up was lost (Redis restarting) still catches up at this pace. */
const POLL_MS = 3_000;
const HEARTBEAT_MS = 15_000;

/**
 * Server-Sent Events of one attempt: everything recorded so far, then each new event as it is
 * committed, in order; ends after the attempt's "done" (or "superseded") event. Resumes after
 * Last-Event-ID.
 */
export async function streamAttemptEvents(req: Request, res: Response, db: Db, live: LiveHub, attemptId: string): Promise<void> {
  res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache, no-transform", connection: "keep-alive", "x-accel-buffering": "no" });
  res.flushHeaders();
  let lastId = /^\d+$/.test(req.get("last-event-id") ?? "") ? req.get("last-event-id")! : "0";
  let closed = false;
  let pumping: Promise<void> | undefined;
  let again = false;
  const finish = () => {
    if (closed) return;
    closed = true;
    unlisten();
    clearInterval(poll);
    clearInterval(heartbeat);
    res.end();
  };
  const pumpOnce = async () => {
    for (;;) {
      const events = await eventsAfter(db, attemptId, lastId);
      for (const e of events) {
        if (closed) return;
        res.write(`id: ${e.id}\nevent: ${e.type}\ndata: ${JSON.stringify({ ...e.data, run: e.run, at: e.at })}\n\n`);
        lastId = e.id;
        if (e.type === "done" || e.type === "superseded") return finish();
      }
      if (events.length < 500) return;
    }
  };
  const pump = () => {
    if (pumping) {
      again = true;
      return;
    }
    pumping = pumpOnce()
      .catch(() => finish())
      .finally(() => {
        pumping = undefined;
        if (again && !closed) {
          again = false;
          pump();
        }
      });
  };
  const unlisten = live.listen(attemptId, pump);
  const poll = setInterval(pump, POLL_MS);
  const heartbeat = setInterval(() => res.write(": keep-alive\n\n"), HEARTBEAT_MS);
  req.on("close", finish);
  pump();
}
