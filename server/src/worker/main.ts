import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { Queue, Worker } from "bullmq";
import { Redis } from "ioredis";
import { GRADE_QUEUE } from "../../../grader/src/contracts.ts";
import { markNotGradable } from "../db/attempts.ts";
import { createDb, migrate } from "../db/connect.ts";
import { reapOrphans } from "../../../grader/src/clusters/reaper.ts";
import { prepareProvider } from "../../../grader/src/clusters/select.ts";
import { graderConfigFromEnv } from "../../../grader/src/config.ts";
import { hostCapacity, hostManagerCache } from "../../../grader/src/grading/capacity.ts";
import { messageChain } from "../../../grader/src/errors.ts";
import { LABS_DIR } from "../../../grader/src/labs/load.ts";
import { hostGoSetup } from "../../../grader/src/runner/build-sandbox.ts";
import { warmSharedCache } from "../../../grader/src/runner/build.ts";
import { managerEnvironment } from "../../../grader/src/runner/manager-environment.ts";
import { reapSandboxes, sandboxProblems, sandboxSettings } from "../../../grader/src/runner/sandbox.ts";
import { ensureToolchain } from "../../../grader/src/toolchain/build.ts";
import { WorkerConfigSchema } from "./config.ts";
import { createGradeAttempt } from "./grade-attempt.ts";
import { syncLabs } from "./labs-sync.ts";
import { createWorkerMetrics, serveWorkerMetrics, WORKER_METRICS_HOST } from "./metrics.ts";
import { createEventPublisher } from "../live/publisher.ts";
import { startRetention } from "./retention.ts";
import { startSweeper } from "./sweeper.ts";

const env = process.env;
const log = (line: string) => process.stderr.write(`${new Date().toISOString()} worker: ${line}\n`);

const grader = graderConfigFromEnv(env);
const config = WorkerConfigSchema.parse({
  databaseUrl: env.DATABASE_URL,
  redisUrl: env.REDIS_URL,
  queuePrefix: env.LABGRADER_QUEUE_PREFIX,
  concurrency: env.LABGRADER_WORKER_CONCURRENCY,
  lockDurationMs: env.LABGRADER_LOCK_MS,
  stalledIntervalMs: env.LABGRADER_STALLED_INTERVAL_MS,
  sweepIntervalMs: env.LABGRADER_SWEEP_INTERVAL_MS,
  sweepGraceMs: env.LABGRADER_SWEEP_GRACE_MS,
  workDir: env.LABGRADER_WORK_DIR ?? join(grader.cacheDir, "attempts"),
  buildTimeoutMs: env.LABGRADER_BUILD_TIMEOUT_MS,
  runningPerLearner: env.LABGRADER_RUNNING_PER_LEARNER,
  learnerBusyRetryMs: env.LABGRADER_LEARNER_BUSY_RETRY_MS,
  archiveRetentionDays: env.LABGRADER_ARCHIVE_RETENTION_DAYS,
  retentionIntervalMs: env.LABGRADER_RETENTION_INTERVAL_MS,
  metricsPort: env.LABGRADER_WORKER_METRICS_PORT || undefined,
});

const db = createDb(config.databaseUrl, { log });
await migrate(db);
const labs = await syncLabs(db, env.LABGRADER_LABS_DIR ?? LABS_DIR);
log(`labs: ${[...labs.keys()].join(", ")}`);

const { toolchain } = await ensureToolchain({ cacheDir: grader.cacheDir, env, log }, true);
const { provider, kubectl } = await prepareProvider(grader.provider, { config: grader, toolchain, env, log }, true);
const reaped = await reapOrphans(provider, { olderThanMs: 0, log });
if (reaped.length > 0) log(`reaped ${reaped.length} orphaned cluster(s)`);
await mkdir(config.workDir, { recursive: true, mode: 0o700 });

// Learners' managers always run sandboxed unless the operator of this worker says otherwise
// (LABGRADER_SANDBOX=0, e.g. on a host without cgroup v1 or iptables): their code is not ours.
const sandboxOff = grader.sandbox === false;
// On kind the operator runs in a pod of its own (Pod Security, admission policies): there is no host process to confine.
const confinement = sandboxOff
  ? undefined
  : sandboxSettings(grader, { protectedPaths: [config.workDir], seccomp: toolchain.binaries["labgrader-seccomp"] });
const sandbox = provider.operatorMode === "host" ? confinement : undefined;
if (confinement) {
  const problems = await sandboxProblems(confinement);
  if (problems.length > 0)
    throw new Error(
      `this host cannot sandbox learners' operators (set LABGRADER_SANDBOX=0 to grade without):\n${problems.join("\n")}`,
    );
  const freed = await reapSandboxes(confinement);
  if (freed.length > 0) log(`reaped ${freed.length} sandbox(es) left by dead workers: uids ${freed.join(", ")}`);
  // Learners' builds read the shared Go build cache and write only their own scratch: it must hold the operators' dependencies.
  const warming = Date.now();
  await warmSharedCache(env);
  log(`Go build cache warm for sandboxed builds (${((Date.now() - warming) / 1000).toFixed(1)} s)`);
} else if (provider.operatorMode === "host") {
  log("learners' operators run WITHOUT a sandbox (LABGRADER_SANDBOX=0)");
}

const connection = new Redis(config.redisUrl, { maxRetriesPerRequest: null });
const publisher = new Redis(config.redisUrl, { maxRetriesPerRequest: null });
const publish = createEventPublisher(publisher, log);
const queue = new Queue(GRADE_QUEUE, { connection, prefix: config.queuePrefix });
const capacity = hostCapacity(grader);
const managerCache = hostManagerCache(grader);
const metrics = createWorkerMetrics(capacity);
const metricsServer =
  config.metricsPort === undefined ? undefined : await serveWorkerMetrics(metrics.registry, config.metricsPort, log);
if (metricsServer) log(`metrics on http://${WORKER_METRICS_HOST}:${config.metricsPort}/metrics`);

const gradeAttempt = createGradeAttempt({
  db,
  publish,
  labs,
  grading: {
    provider,
    controllerGen: toolchain.binaries["controller-gen"],
    goEnv: env,
    managerEnv: managerEnvironment(env),
    ...(kubectl ? { kubectl } : {}),
  },
  gradeOptions: {
    buildTimeoutMs: config.buildTimeoutMs,
    capacity,
    ...(managerCache ? { managerCache } : {}),
    ...(sandbox ? { sandbox } : {}),
    ...(confinement ? { buildSandbox: confinement } : {}),
  },
  workRoot: config.workDir,
  perLearner: { running: config.runningPerLearner, retryMs: config.learnerBusyRetryMs },
  goVersion: env.LABGRADER_GO_VERSION || (await hostGoSetup(env)).goVersion,
  metrics,
  log,
});

const worker = new Worker(GRADE_QUEUE, gradeAttempt, {
  connection,
  prefix: config.queuePrefix,
  concurrency: config.concurrency,
  lockDuration: config.lockDurationMs,
  stalledInterval: config.stalledIntervalMs,
  // A job whose worker died twice is still graded a third time before it is given up.
  maxStalledCount: 2,
});
worker.on("failed", (job, error) => {
  if (!job) return;
  const final = job.attemptsMade >= (job.opts.attempts ?? 1) || error.name === "UnrecoverableError";
  log(
    `attempt ${String(job.data.attemptId)} run failed (${job.attemptsMade}/${job.opts.attempts ?? 1}): ${messageChain(error)}`,
  );
  if (!final) return;
  markNotGradable(db, String(job.data.attemptId), error.message)
    .then(async (events) => {
      for (const e of events ?? []) await publish(e);
    })
    .catch((e: unknown) => log(`could not mark attempt ${String(job.data.attemptId)} not gradable: ${String(e)}`));
});
worker.on("error", (error) => log(`queue error: ${messageChain(error)}`));
const sweeper = startSweeper({ db, queue, graceMs: config.sweepGraceMs, intervalMs: config.sweepIntervalMs, log });
const retention = startRetention({
  db,
  archiveRetentionMs: config.archiveRetentionDays * 24 * 3_600_000,
  intervalMs: config.retentionIntervalMs,
  log,
});
log(
  `ready: concurrency ${config.concurrency} (${config.runningPerLearner} per learner), provider ${provider.name}, sandbox ${sandbox ? "on" : confinement ? "builds only" : "off"}, host budget ${grader.gradeSlots} grades and ${grader.buildSlots} builds, pid ${process.pid}`,
);

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  log(`${signal}: finishing running attempts, taking no new ones`);
  await Promise.all([sweeper.stop(), retention.stop()]);
  await worker.close();
  if (metricsServer) await new Promise((resolve) => metricsServer.close(resolve));
  await queue.close();
  await Promise.all([connection.quit(), publisher.quit()]).catch(() => undefined);
  await db.destroy();
  log("stopped");
  process.exit(0);
}
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));
