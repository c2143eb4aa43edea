import type { Queue } from "bullmq";
import type { Request, RequestHandler, Response } from "express";
import { collectDefaultMetrics, Counter, Gauge, Registry } from "prom-client";
import { requireRole } from "../auth.ts";
import {
  attemptCounts,
  notGradableReasons,
  phaseDurationCounts,
  queueWaitCounts,
  type DurationCounts,
} from "../db/attempt-stats.ts";
import type { Db } from "../db/connect.ts";
import { registerCountedHistogram } from "./counted-histogram.ts";
import { httpMetrics } from "./http.ts";
import { notGradableClass } from "./not-gradable.ts";

/** Seconds: a build or a cluster's start takes seconds, the checks minutes (the lab's own timings). */
export const PHASE_BUCKETS = [1, 2, 5, 10, 20, 30, 60, 120, 180, 300, 600, 900, 1800];
/** Seconds from acceptance to the start of grading: nothing, a queue, or a queue behind a busy host. */
export const QUEUE_WAIT_BUCKETS = [1, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200];
/** The queue's states worth watching: what waits (delayed includes attempts put back for their learner's limit) and what runs. */
const QUEUE_STATES = ["waiting", "prioritized", "active", "delayed"] as const;
/** A scrape reports no queue depth rather than hang while Redis does not answer. */
const QUEUE_TIMEOUT_MS = 2_000;

export interface ServiceMetricsDeps {
  db: Db;
  queue: Pick<Queue, "getJobCounts">;
  log: (line: string) => void;
}

export interface ServiceMetrics {
  registry: Registry;
  /** Times every request; mount it before any route. */
  http: RequestHandler;
  /** GET /metrics for instructors, after `authenticate`. */
  handler: (req: Request, res: Response) => Promise<void>;
}

const series = (labels: Record<string, string>, c: DurationCounts) => ({
  labels,
  cumulative: c.cumulative,
  count: c.count,
  sum: c.sum,
});

async function within<T>(ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>(
    (_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)),
  );
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * What the service tells Prometheus: its own HTTP requests, and what the gradebook and the queue
 * say about grading, read on each scrape — so one scrape of the service covers every worker.
 */
export function createServiceMetrics(deps: ServiceMetricsDeps): ServiceMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const { db } = deps;

  new Gauge({
    name: "labgrader_attempts",
    help: "Attempts in the gradebook by lab and status, now",
    labelNames: ["lab", "status"],
    registers: [registry],
    async collect() {
      const rows = await attemptCounts(db);
      this.reset();
      for (const r of rows) this.set({ lab: r.lab, status: r.status }, r.count);
    },
  });
  registerCountedHistogram(registry, {
    name: "labgrader_attempt_phase_duration_seconds",
    help: "How long each phase of finished attempts lasted (the last run of each), by lab and phase",
    buckets: PHASE_BUCKETS,
    read: async () =>
      (await phaseDurationCounts(db, PHASE_BUCKETS)).map((c) => series({ lab: c.lab, phase: c.phase }, c)),
  });
  registerCountedHistogram(registry, {
    name: "labgrader_attempt_queue_wait_seconds",
    help: "How long finished attempts graded in one run waited from acceptance to the start of grading, by lab",
    buckets: QUEUE_WAIT_BUCKETS,
    read: async () => (await queueWaitCounts(db, QUEUE_WAIT_BUCKETS)).map((c) => series({ lab: c.lab }, c)),
  });
  new Counter({
    name: "labgrader_not_gradable_attempts_total",
    help: "Attempts that ended not gradable, by lab and a short class of their reason (the full reason is in the gradebook)",
    labelNames: ["lab", "reason"],
    registers: [registry],
    async collect() {
      const rows = await notGradableReasons(db);
      this.reset();
      for (const r of rows) this.inc({ lab: r.lab, reason: notGradableClass(r.reason) }, r.count);
    },
  });
  new Gauge({
    name: "labgrader_queue_jobs",
    help: "Grading jobs in the queue by state, now (absent when Redis does not answer)",
    labelNames: ["state"],
    registers: [registry],
    async collect() {
      try {
        const counts = await within(QUEUE_TIMEOUT_MS, deps.queue.getJobCounts(...QUEUE_STATES));
        this.reset();
        for (const state of QUEUE_STATES) this.set({ state }, counts[state] ?? 0);
      } catch (e) {
        this.reset();
        deps.log(`metrics: the queue's depth could not be read: ${e instanceof Error ? e.message : String(e)}`);
      }
    },
  });

  return {
    registry,
    http: httpMetrics(registry),
    async handler(req, res) {
      requireRole(req, "instructor");
      const text = await registry.metrics();
      res.set("content-type", registry.contentType).send(text);
    },
  };
}
