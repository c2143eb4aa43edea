import express, { type NextFunction, type Request, type Response } from "express";
import type { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { authenticate, currentUser } from "./auth.ts";
import { isDatabaseUnavailable, pingDb, type Db } from "./db/connect.ts";
import type { EventSink } from "./db/events.ts";
import { HttpError, TooManyRequests } from "./errors.ts";
import type { FairUse } from "./limits/fair-use.ts";
import type { LiveHub } from "./live/hub.ts";
import type { ServiceMetrics } from "./metrics/service-metrics.ts";
import { attemptsRouter } from "./routes/attempts/attempts.ts";
import { coursesRouter } from "./routes/courses/courses.ts";
import { gradebookRouter } from "./routes/gradebook/gradebook.ts";
import { labsRouter } from "./routes/labs/labs.ts";
import { createPages, type PagesOptions } from "./pages/pages.ts";
import { openApiDocument } from "./routes/meta/openapi.ts";
import { submissionsRouter } from "./routes/submissions/submissions.ts";

export interface AppDeps {
  db: Db;
  redis: Redis;
  queue: Queue;
  live: LiveHub;
  notify: EventSink;
  /** Sign-in, submission and event-stream limits, shared by every server process. */
  limits: FairUse;
  uploadDir: string;
  maxUploadBytes: number;
  /** The Go that builds submissions (go1.26.8): an upload's go.mod may not ask for a newer one. */
  goVersion: string;
  acceptsImages: boolean;
  log: (line: string) => void;
  /** Sign-in and the learners' and instructors' pages; without it the service is the API alone. */
  pages?: PagesOptions;
  /** Request timing and GET /metrics (instructors); without it the service keeps no metrics. */
  metrics?: ServiceMetrics;
}

export function createApp(deps: AppDeps) {
  const app = express();
  app.disable("x-powered-by");
  app.set("trust proxy", "loopback");
  if (deps.metrics) {
    app.use(deps.metrics.http);
    app.get("/metrics", authenticate(deps.db), deps.metrics.handler);
  }

  app.get("/healthz", (_req, res) => {
    res.json({ ok: true });
  });
  app.get("/readyz", async (_req, res) => {
    const checks = await Promise.allSettled([pingDb(deps.db), deps.redis.ping()]);
    const [db, redis] = checks.map((c) => (c.status === "fulfilled" ? "ok" : String(c.reason)));
    const ok = db === "ok" && redis === "ok";
    res.status(ok ? 200 : 503).json({ ok, db, redis });
  });
  app.get("/api/v1/openapi.json", (_req, res) => {
    res.json(openApiDocument());
  });

  const api = express.Router();
  api.use(express.json({ limit: "64kb" }));
  api.use(authenticate(deps.db));
  api.get("/me", (req, res) => {
    const user = currentUser(req);
    res.json({ id: user.id, name: user.name, role: user.role });
  });
  api.use(labsRouter(deps.db));
  api.use(coursesRouter(deps.db));
  api.use(
    submissionsRouter({
      db: deps.db,
      queue: deps.queue,
      notify: deps.notify,
      submissions: deps.limits.submissions,
      upload: { uploadDir: deps.uploadDir, maxUploadBytes: deps.maxUploadBytes, goVersion: deps.goVersion },
      acceptsImages: deps.acceptsImages,
      log: deps.log,
    }),
  );
  api.use(
    attemptsRouter({
      db: deps.db,
      queue: deps.queue,
      live: deps.live,
      streams: deps.limits.streams,
      notify: deps.notify,
      log: deps.log,
    }),
  );
  api.use(gradebookRouter(deps.db));
  api.use((_req, _res, next) => next(new HttpError(404, "no such API route; see /api/v1/openapi.json")));
  app.use("/api/v1", api);
  if (deps.pages) app.use(createPages(deps, deps.pages));

  app.use((error: unknown, req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(error);
    if (isDatabaseUnavailable(error)) {
      deps.log(
        `${req.method} ${req.originalUrl}: the gradebook is unavailable (${error instanceof Error ? error.message : String(error)})`,
      );
      res
        .status(503)
        .set("retry-after", "5")
        .json({ error: "the gradebook (PostgreSQL) is unavailable right now; try again in a moment" });
      return;
    }
    if (error instanceof TooManyRequests) res.set("retry-after", String(error.retryAfterSeconds));
    if (error instanceof HttpError) {
      res.status(error.status).json({ error: error.message, ...(error.details ? { details: error.details } : {}) });
      return;
    }
    const status = (error as { status?: number; type?: string }).status;
    if (typeof status === "number" && status >= 400 && status < 500) {
      res.status(status).json({ error: error instanceof Error ? error.message : "bad request" });
      return;
    }
    deps.log(`internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    res.status(500).json({ error: "internal error; it has been logged" });
  });
  return app;
}
