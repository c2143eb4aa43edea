import { tmpdir } from "node:os";
import { join } from "node:path";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import pg from "pg";
import { GRADE_QUEUE } from "../../grader/src/contracts.ts";
import { createApp } from "./app.ts";
import { ServiceConfigSchema } from "./config.ts";
import { createDb, migrate } from "./db/connect.ts";
import { channelFor, type StoredEvent } from "./db/events.ts";
import { createLiveHub } from "./live.ts";
import { persistedSecret } from "./db/passwords.ts";
import { ensureUploadDir } from "./routes/submissions/upload.ts";

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
  provider: env.LABGRADER_PROVIDER,
  sessionSecret: env.LABGRADER_SESSION_SECRET || undefined,
});

const db = createDb(config.databaseUrl);
await migrate(db);
await ensureUploadDir(config.uploadDir);
const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: null });
const subscriber = new Redis(config.redisUrl, { maxRetriesPerRequest: null });
const queue = new Queue(GRADE_QUEUE, { connection: redis, prefix: config.queuePrefix });
// Page sessions get a small pool of their own: connect-pg-simple speaks pg, not Kysely.
const sessionPool = new pg.Pool({ connectionString: config.databaseUrl, max: 3 });
const pages = { sessionSecret: config.sessionSecret ?? (await persistedSecret(db, "session")), sessionPool };
const notify = async (e: StoredEvent) => {
  await redis.publish(channelFor(e.attemptId), e.id).catch(() => undefined);
};
const app = createApp({ db, redis, queue, live: createLiveHub(subscriber), notify, uploadDir: config.uploadDir, maxUploadBytes: config.maxUploadBytes, acceptsImages: config.provider === "kind", log, pages });
const server = app.listen(config.port, config.host, () => {
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : config.port;
  log(`listening on http://${config.host}:${port}`);
});

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  log(`${signal}: closing`);
  server.closeIdleConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await queue.close();
  await Promise.all([redis.quit(), subscriber.quit()]).catch(() => undefined);
  await sessionPool.end();
  await db.destroy();
  process.exit(0);
}
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));
