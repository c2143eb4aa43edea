import type { NextFunction, Request, RequestHandler, Response } from "express";
import { Histogram, type Registry } from "prom-client";

/** Seconds; event streams stay open for a whole grade, so the last buckets are wide. */
const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

/** 200 -> "2xx": five series per route, whatever the exact codes. */
export const statusClass = (status: number) => `${Math.floor(status / 100)}xx`;

/**
 * The label of a request's route: the pattern it matched (`/api/v1/attempts/:id`), never its URL,
 * which would make a series per attempt. A request no route matched is named by the mount that
 * answered it (`/static/*`), or `unmatched`.
 */
export function routeLabel(pattern: string | undefined, baseUrl: string): string {
  if (pattern !== undefined) return pattern;
  return baseUrl ? `${baseUrl}/*` : "unmatched";
}

/**
 * Follows which route pattern handles a request, with its routers' mount paths. Express sets
 * `req.route` when a route matches, while `req.baseUrl` is still that router's mount path; an
 * error passed on from the handler unwinds `baseUrl` before the response ends, so the pattern is
 * taken at that moment.
 */
function followRoute(req: Request): () => string | undefined {
  let pattern: string | undefined;
  let route: unknown;
  Object.defineProperty(req, "route", {
    configurable: true,
    enumerable: true,
    get: () => route,
    set: (value: { path?: unknown } | undefined) => {
      route = value;
      if (typeof value?.path === "string") pattern = `${req.baseUrl}${value.path}`;
    },
  });
  return () => pattern;
}

/** Times every request, from its arrival to the end of its response (or the client going away). */
export function httpMetrics(registry: Registry): RequestHandler {
  const histogram = new Histogram({
    name: "labgrader_http_request_duration_seconds",
    help: "HTTP requests by method, route pattern and status class, from arrival to the end of the response",
    labelNames: ["method", "route", "status_class"],
    buckets: HTTP_BUCKETS,
    registers: [registry],
  });
  return (req: Request, res: Response, next: NextFunction) => {
    const stop = histogram.startTimer();
    const pattern = followRoute(req);
    res.once("close", () => {
      stop({
        method: req.method,
        route: routeLabel(pattern(), req.baseUrl),
        status_class: statusClass(res.statusCode),
      });
    });
    next();
  };
}
