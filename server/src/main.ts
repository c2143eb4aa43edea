import { execFile } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { GRADE_QUEUE, PROVIDERS } from "../../grader/src/contracts.ts";
import { createApp } from "./app.ts";
import { ServiceConfigSchema } from "./config.ts";
import { createDb, createPool, migrate } from "./db/connect.ts";
import { createFairUse } from "./limits/fair-use.ts";
import { createLiveHub } from "./live/hub.ts";
import { createEventPublisher } from "./live/publisher.ts";
import { createServiceMetrics } from "./metrics/service-metrics.ts";
import { persistedSecret } from "./db/passwords.ts";
import { ensureUploadDir } from "./uploads/receive.ts";
import { GoToolchainSchema } from "./uploads/go-version.ts";

const env = process.env;
const log = (line: string) => process.stderr.write(`${new Date().toISOString()} server: ${line}\n`);
const config = ServiceConfigSchema.parse({
  port: env.PORT,
  host: env.HOST,
  databaseUrl: env.DATABASE_URL,
  redisUrl: env.REDIS_URL,
  queuePrefix: env.LABGRADER_QUEUE_PREFIX,
  maxUploadBytes: env.LABGRADER_MAX_UPLOAD_BYTES,
  uploadDir: env.LABGRADER_UPLOAD_DIR ?? join(tmpdir(), "labgrader-uploads"),
  goVersion: env.LABGRADER_GO_VERSION || undefined,
  provider: env.LABGRADER_PROVIDER,
  sessionSecret: env.LABGRADER_SESSION_SECRET || undefined,
  signInFailuresPerAccount: env.LABGRADER_SIGN_IN_FAILURES_PER_ACCOUNT,
  signInFailuresPerAddress: env.LABGRADER_SIGN_IN_FAILURES_PER_ADDRESS,
  signInWindowMs: env.LABGRADER_SIGN_IN_WINDOW_MS,
  submissionsPerWindow: env.LABGRADER_SUBMISSIONS_PER_WINDOW,
  submissionWindowMs: env.LABGRADER_SUBMISSION_WINDOW_MS,
  streamsPerUser: env.LABGRADER_STREAMS_PER_USER,
});

/** The local go's own version: outside any module, and without letting a go.mod pick another toolchain. */
async function localGoVersion(): Promise<string> {
  try {
    const { stdout } = await promisify(execFile)("go", ["env", "GOVERSION"], {
      cwd: tmpdir(),
      env: { ...env, GOTOOLCHAIN: "local" },
      timeout: 60_000,
    });
    return GoToolchainSchema.parse(stdout);
  } catch (error) {
    throw new Error(
      "while asking `go env GOVERSION` which Go builds submissions (on a host without that go, set LABGRADER_GO_VERSION, e.g. go1.26.8)",
      { cause: error },
    );
  }
}
const goVersion = config.goVersion ?? (await localGoVersion());
log(`uploads may ask for Go up to ${goVersion}`);

const db = createDb(config.databaseUrl, { log });
await migrate(db);
await ensureUploadDir(config.uploadDir);
const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: null });
const subscriber = new Redis(config.redisUrl, { maxRetriesPerRequest: null });
const queue = new Queue(GRADE_QUEUE, { connection: redis, prefix: config.queuePrefix });
// Page sessions get a small pool of their own: connect-pg-simple speaks pg, not Kysely.
const sessionPool = createPool(config.databaseUrl, { log, maxConnections: 3 });
const pages = { sessionSecret: config.sessionSecret ?? (await persistedSecret(db, "session")), sessionPool };
const notify = createEventPublisher(redis, log);
const limits = createFairUse(db, config);
const metrics = createServiceMetrics({ db, queue, log });
const app = createApp({
  db,
  redis,
  queue,
  live: createLiveHub(subscriber),
  notify,
  limits,
  uploadDir: config.uploadDir,
  maxUploadBytes: config.maxUploadBytes,
  goVersion,
  acceptsImages: PROVIDERS[config.provider].operatorMode === "in-cluster",
  log,
  pages,
  metrics,
});
/** How long an idle connection is kept for the client's next request (advertised as Keep-Alive: timeout). */
const KEEP_ALIVE_MS = 65_000;
const server = app.listen(config.port, config.host, () => {
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : config.port;
  log(`listening on http://${config.host}:${port}`);
});
// Node closes an idle connection after 5 s, just when a client (fetch, a proxy) may be reusing it
// for its next request: on a busy host an upload then fails with EPIPE, its 413 or 201 never read.
// Clients drop idle connections before the timeout a server advertises, so with a long one that
// race needs a minute-long pause. Shutdown closes idle connections at once whatever this is.
server.keepAliveTimeout = KEEP_ALIVE_MS;
server.headersTimeout = KEEP_ALIVE_MS + 1_000;

/** How long open requests (uploads, event streams) get to finish once the server stops. */
const STREAMS_GRACE_MS = 5_000;
let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  log(`${signal}: closing`);
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  // An attempt's event stream stays open until the attempt is done: end what is still open after a grace, so a stop never waits on a browser tab.
  const streams = setTimeout(() => server.closeAllConnections(), STREAMS_GRACE_MS);
  await closed;
  clearTimeout(streams);
  await queue.close();
  await Promise.all([redis.quit(), subscriber.quit()]).catch(() => undefined);
  await sessionPool.end();
  await db.destroy();
  process.exit(0);
}
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));
