import { z } from "zod";

/** The worker's configuration, read once from the environment by jobs/main.ts. */
export const WorkerConfigSchema = z.object({
  /** Postgres, the gradebook (DATABASE_URL). */
  databaseUrl: z.string().min(1),
  /** Redis, the queue (REDIS_URL). */
  redisUrl: z.string().min(1),
  /** Prefix of the queue's Redis keys, so several instances can share one Redis (LABGRADER_QUEUE_PREFIX). */
  queuePrefix: z.string().min(1).default("labgrader"),
  /** Attempts graded at once by this worker (LABGRADER_WORKER_CONCURRENCY); each holds a cluster of ~0.5 GB. */
  concurrency: z.coerce.number().int().min(1).max(64).default(4),
  /** How long a job's lock lasts without renewal before another worker may take it over (LABGRADER_LOCK_MS). */
  lockDurationMs: z.coerce.number().int().min(5_000).default(30_000),
  /** How often workers look for jobs whose worker died (LABGRADER_STALLED_INTERVAL_MS). */
  stalledIntervalMs: z.coerce.number().int().min(1_000).default(15_000),
  /** How often the sweeper looks for accepted attempts without a job (LABGRADER_SWEEP_INTERVAL_MS). */
  sweepIntervalMs: z.coerce.number().int().min(1_000).default(30_000),
  /** Age after which an accepted attempt without a job is re-enqueued (LABGRADER_SWEEP_GRACE_MS). */
  sweepGraceMs: z.coerce.number().int().min(0).default(10_000),
  /** Per-attempt workspaces (LABGRADER_WORK_DIR). */
  workDir: z.string().min(1),
  /** Time limit for `go build` of a submitted project, from the moment it has a build slot (LABGRADER_BUILD_TIMEOUT_MS). */
  buildTimeoutMs: z.coerce.number().int().min(1_000).default(300_000),
});
export type WorkerConfig = z.infer<typeof WorkerConfigSchema>;
