import { z } from "zod";

/** The worker's configuration, read once from the environment by worker/main.ts. */
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
  /** Attempts of one learner graded at once across every worker; their others stay queued until one finishes (LABGRADER_RUNNING_PER_LEARNER). */
  runningPerLearner: z.coerce.number().int().min(1).default(2),
  /** How long an attempt whose learner is at that limit waits in the queue before it asks again (LABGRADER_LEARNER_BUSY_RETRY_MS). */
  learnerBusyRetryMs: z.coerce.number().int().min(100).default(10_000),
  /** Days the archive of a superseded, never graded submission is kept after it was superseded; graded ones keep theirs (LABGRADER_ARCHIVE_RETENTION_DAYS). */
  archiveRetentionDays: z.coerce.number().min(0).default(7),
  /** How often the worker deletes what is past its retention: such archives, expired rate-limit hits and stream leases (LABGRADER_RETENTION_INTERVAL_MS). */
  retentionIntervalMs: z.coerce.number().int().min(1_000).default(3_600_000),
  /** Port of this worker's Prometheus endpoint, on 127.0.0.1 only; unset, the worker serves none (LABGRADER_WORKER_METRICS_PORT). */
  metricsPort: z.coerce.number().int().min(1).max(65535).optional(),
});
export type WorkerConfig = z.infer<typeof WorkerConfigSchema>;
