import express, { Router, type NextFunction, type Request, type Response } from "express";
import helmet from "helmet";
import type pg from "pg";
import { join } from "node:path";
import type { AppDeps } from "../app.ts";
import { isDatabaseUnavailable } from "../db/connect.ts";
import { HttpError, TooManyRequests } from "../errors.ts";
import { authPages } from "./auth.ts";
import { coursePages } from "./course.ts";
import { instructorPages } from "./instructor.ts";
import { learnerPages, UPLOAD_PAGE_PATH } from "./learner.ts";
import { queueBoard } from "./queue-board.ts";
import { createRenderer, WEB_DIR } from "./render.ts";
import { csrfProtection, loadUser, sessionMiddleware, SignInRequired } from "./session.ts";

export interface PagesOptions {
  /** Signs session cookies and CSRF tokens. */
  sessionSecret: string;
  /** Where connect-pg-simple keeps sessions (the gradebook's database). */
  sessionPool: pg.Pool;
}

/** Our own scripts and styles only: no inline script or style, no other origin. */
const pageHelmet = helmet({
  contentSecurityPolicy: {
    useDefaults: false,
    directives: {
      "default-src": ["'self'"],
      "script-src": ["'self'"],
      "style-src": ["'self'"],
      "img-src": ["'self'", "data:"],
      "connect-src": ["'self'"],
      "font-src": ["'self'"],
      "form-action": ["'self'"],
      "frame-ancestors": ["'none'"],
      "base-uri": ["'none'"],
      "object-src": ["'none'"],
    },
  },
});

/**
 * The learners' and instructors' pages, rendered on the server (handlebars views in web/) with
 * a little progressive JavaScript. Mounted after /api/v1, whose bearer tokens are unaffected.
 */
export function createPages(deps: AppDeps, options: PagesOptions): Router {
  const view = createRenderer();
  const csrf = csrfProtection(options.sessionSecret);
  const router = Router();
  router.use("/static", express.static(join(WEB_DIR, "static"), { index: false, maxAge: "1h", fallthrough: false }));
  router.use(sessionMiddleware({ secret: options.sessionSecret, pool: options.sessionPool, log: deps.log }));
  router.use(loadUser(deps.db));
  router.use(queueBoard(deps.queue));
  router.use(pageHelmet);
  router.use(express.urlencoded({ extended: false, limit: "16kb", parameterLimit: 20 }));
  router.post(UPLOAD_PAGE_PATH, csrf.routeChecksToken);
  router.use(csrf.middleware);
  router.use(authPages(deps.db, view, deps.limits.signIn));
  router.use(learnerPages(deps, view, csrf.validate));
  router.use(coursePages(deps, view));
  router.use(instructorPages(deps, view));
  router.use((_req, _res, next) => next(new HttpError(404, "There is no such page.")));

  router.use((error: unknown, req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(error);
    if (error instanceof SignInRequired) {
      if (req.method === "GET" && req.accepts("html"))
        return res.redirect(303, `/sign-in?next=${encodeURIComponent(req.originalUrl)}`);
      error = new HttpError(401, "Sign in first.");
    }
    const unavailable = isDatabaseUnavailable(error);
    const status = unavailable
      ? 503
      : error instanceof HttpError
        ? error.status
        : ((error as { status?: number }).status ?? 500);
    if (unavailable)
      deps.log(
        `page ${req.method} ${req.originalUrl}: the gradebook is unavailable (${error instanceof Error ? error.message : String(error)})`,
      );
    else if (status >= 500)
      deps.log(
        `page error on ${req.method} ${req.originalUrl}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
      );
    const message = unavailable
      ? "The gradebook is unavailable for a moment; try again shortly."
      : status >= 500
        ? "Something went wrong on our side; it has been logged. Try again in a moment."
        : error instanceof Error
          ? error.message
          : "That request could not be handled.";
    const title =
      status === 404
        ? "Not found"
        : status === 403
          ? "Not allowed"
          : status === 429
            ? "Please wait"
            : status >= 500
              ? "Server error"
              : "Cannot do that";
    if (error instanceof TooManyRequests) res.set("retry-after", String(error.retryAfterSeconds));
    res
      .status(status)
      .type("html")
      .send(
        view.html(
          "errors/error",
          { title, ...(req.user ? { user: req.user } : {}), ...(req.csrfToken ? { csrfToken: req.csrfToken() } : {}) },
          { status, message },
        ),
      );
  });
  return router;
}
