import { createServer, type Server } from "node:http";
import { collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { HostCapacity } from "../../../grader/src/grading/capacity.ts";
import type { SlotSnapshot } from "../../../grader/src/process/host-slots.ts";

/**
 * What only a worker sees, for Prometheus: learners' builds and this host's budget. What the
 * gradebook and the queue know (attempts, phases, waits, not-gradable reasons) is the service's
 * /metrics, so a worker adds only this, on a port of its own.
 */

/** Without a token, the endpoint answers on loopback only: a scraper on the same host (or a tunnel to it). */
export const WORKER_METRICS_HOST = "127.0.0.1";

/** Seconds; the 5 s bound parts warm builds (Go's build cache held the dependencies) from cold ones, which take minutes. */
export const BUILD_BUCKETS = [2, 5, 10, 20, 30, 60, 120, 180, 300, 600];

export type BuildOutcome = "built" | "failed" | "timed_out";

export interface BuildEnd {
  ok: boolean;
  timedOut: boolean;
  durationMs: number;
}

export const buildOutcome = (build: Pick<BuildEnd, "ok" | "timedOut">): BuildOutcome =>
  build.ok ? "built" : build.timedOut ? "timed_out" : "failed";

export interface WorkerMetrics {
  registry: Registry;
  /** A learner's build of its manager ended (its time counts from the moment it had a build slot). */
  buildFinished(lab: string, build: BuildEnd): void;
}

/** One look at every pool per scrape, however many gauges read it. */
function sharedSnapshots(pools: HostCapacity): () => Promise<[keyof HostCapacity, SlotSnapshot][]> {
  let pending: Promise<[keyof HostCapacity, SlotSnapshot][]> | undefined;
  return () => {
    pending ??= Promise.all(
      (Object.entries(pools) as [keyof HostCapacity, HostCapacity[keyof HostCapacity]][]).map(
        async ([key, pool]) => [key, await pool.snapshot()] as [keyof HostCapacity, SlotSnapshot],
      ),
    ).finally(() => {
      pending = undefined;
    });
    return pending;
  };
}

export function createWorkerMetrics(capacity: HostCapacity): WorkerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const snapshots = sharedSnapshots(capacity);
  const builds = new Histogram({
    name: "labgrader_operator_build_duration_seconds",
    help: "Learners' manager builds by lab and outcome (built, failed, timed_out), from the moment each had a build slot",
    labelNames: ["lab", "outcome"],
    buckets: BUILD_BUCKETS,
    registers: [registry],
  });
  new Gauge({
    name: "labgrader_host_slots_held",
    help: "Slots of this host's budget in use now, across every worker and labgrader command on it: grades (each with its cluster, running or starting), builds, cluster starts",
    labelNames: ["pool"],
    registers: [registry],
    async collect() {
      const pools = await snapshots();
      for (const [pool, s] of pools) this.set({ pool }, s.held.length);
    },
  });
  new Gauge({
    name: "labgrader_host_slots_waiting",
    help: "Grades, builds and cluster starts on this host waiting for a slot now",
    labelNames: ["pool"],
    registers: [registry],
    async collect() {
      const pools = await snapshots();
      for (const [pool, s] of pools) this.set({ pool }, s.waiting.length);
    },
  });
  const size = new Gauge({
    name: "labgrader_host_slots_size",
    help: "Slots in each pool of this host's budget (LABGRADER_GRADE_SLOTS, LABGRADER_BUILD_SLOTS)",
    labelNames: ["pool"],
    registers: [registry],
  });
  for (const [pool, slots] of Object.entries(capacity)) size.set({ pool }, slots.size);

  return {
    registry,
    buildFinished(lab, build) {
      builds.observe({ lab, outcome: buildOutcome(build) }, build.durationMs / 1000);
    },
  };
}

/** Serves GET /metrics on loopback; anything else is a 404. */
export async function serveWorkerMetrics(
  registry: Registry,
  port: number,
  log: (line: string) => void,
): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.method !== "GET" || new URL(req.url ?? "/", "http://metrics").pathname !== "/metrics") {
      res.writeHead(404, { "content-type": "text/plain" }).end("this port serves GET /metrics only\n");
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { "content-type": registry.contentType }).end(text),
      (e: unknown) => {
        log(`metrics: ${e instanceof Error ? e.message : String(e)}`);
        res
          .writeHead(500, { "content-type": "text/plain" })
          .end("the metrics could not be read; see the worker's log\n");
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (e) =>
      reject(new Error(`while opening the worker's metrics port ${WORKER_METRICS_HOST}:${port}`, { cause: e })),
    );
    server.listen(port, WORKER_METRICS_HOST, () => resolve());
  });
  return server;
}
