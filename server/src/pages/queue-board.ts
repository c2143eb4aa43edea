import { createBullBoard } from "@bull-board/api";
import { BullMQAdapter } from "@bull-board/api/bullMQAdapter";
import { ExpressAdapter } from "@bull-board/express";
import type { Queue } from "bullmq";
import { Router } from "express";
import helmet from "helmet";
import { pageUser } from "./session.ts";

export const QUEUE_BOARD_PATH = "/admin/queues";

/**
 * Bull Board over the service's own queue (so the same Redis prefix), for instructors only.
 * Read-only: Postgres is the record of attempts, so regrades go through the dashboard's forms,
 * never by retrying or deleting jobs behind the gradebook's back.
 */
export function queueBoard(queue: Queue): Router {
  const adapter = new ExpressAdapter();
  adapter.setBasePath(QUEUE_BOARD_PATH);
  // @bull-board/express brings its own copy of @bull-board/api (9.10.1 beside our 9.10.2): same shape, two declarations.
  const serverAdapter = adapter as unknown as Parameters<typeof createBullBoard>[0]["serverAdapter"];
  createBullBoard({
    queues: [new BullMQAdapter(queue, { readOnlyMode: true, displayName: "Grading" })],
    serverAdapter,
    options: { uiConfig: { boardTitle: "labgrader queue" } },
  });
  const router = Router();
  router.use(
    QUEUE_BOARD_PATH,
    (req, _res, next) => {
      pageUser(req, "instructor");
      next();
    },
    // Bull Board's React UI sets inline styles: only under its own path may styles be inline.
    helmet({
      contentSecurityPolicy: {
        useDefaults: true,
        directives: {
          "style-src": ["'self'", "'unsafe-inline'"],
          "img-src": ["'self'", "data:"],
          "upgrade-insecure-requests": null,
        },
      },
    }),
    adapter.getRouter() as Router,
  );
  return router;
}
