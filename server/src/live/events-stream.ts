import type { Request, Response } from "express";
import type { Db } from "../db/connect.ts";
import { eventsAfter } from "../db/events.ts";
import { STREAM_RENEW_MS, type StreamGate } from "../limits/streams.ts";
import type { LiveHub } from "./hub.ts";

/** A stream whose wake-up was lost (Redis restarting) still catches up at this pace. */
const POLL_MS = 3_000;
/** Also when the stream renews its place among the viewer's open streams. */
const HEARTBEAT_MS = STREAM_RENEW_MS;

export interface StreamDeps {
  db: Db;
  live: LiveHub;
  streams: StreamGate;
}

/**
 * Server-Sent Events of one attempt: everything recorded so far, then each new event as it is
 * committed, in order; ends after the attempt's "done" (or "superseded") event. Resumes after
 * Last-Event-ID. Each open stream holds one of the viewer's places (429 when none is left) until
 * it ends or the client goes away.
 */
export async function streamAttemptEvents(
  req: Request,
  res: Response,
  deps: StreamDeps,
  attemptId: string,
  viewerId: number,
): Promise<void> {
  const { db, live } = deps;
  const lease = await deps.streams.open(viewerId);
  const release = () => void lease.release().catch(() => undefined);
  if (req.socket.destroyed) return release();
  res.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache, no-transform",
    connection: "keep-alive",
    "x-accel-buffering": "no",
  });
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
    release();
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
  const heartbeat = setInterval(() => {
    res.write(": keep-alive\n\n");
    void lease.renew().catch(() => undefined);
  }, HEARTBEAT_MS);
  req.on("close", finish);
  pump();
}
