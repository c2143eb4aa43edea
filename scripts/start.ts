/**
 * `npm start`: a whole local labgrader with one command. Uses DATABASE_URL and REDIS_URL when
 * given; otherwise an embedded PostgreSQL (data in .data/postgres) and a redis-server child.
 * Builds the toolchain if needed, starts the service and a worker, prints the URL and, on the
 * first start, an instructor token.
 *
 * It owns the order of stopping. Its children run in process groups of their own, so a
 * terminal's Ctrl-C reaches only this process; on SIGINT, SIGTERM or SIGHUP it stops the server
 * (no new requests), then the worker (it finishes the attempts it is grading), then Redis and
 * PostgreSQL, and exits 0. A second Ctrl-C stops everything at once and says what that skipped.
 */
import { writeFile } from "node:fs/promises";
import { constants } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { messageChain } from "../grader/src/errors.ts";
import { createDb, migrate } from "../server/src/db/connect.ts";
import { countUsers, addUser, issueToken } from "../server/src/db/users.ts";
import {
  serviceCommand,
  spawnOwned,
  startPostgres,
  startRedis,
  type OwnedProcess,
  type ServiceScript,
} from "./local-services.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const dataDir = process.env.LABGRADER_DATA_DIR ?? join(root, ".data");
const port = Number(process.env.PORT ?? 8080);
const log = (line: string) => process.stderr.write(`start: ${line}\n`);

/**
 * npm passes the terminal's Ctrl-C on to its child; when the shell running the script execs it
 * (bash does), that child is this process, and one Ctrl-C arrives twice, milliseconds apart.
 */
const SAME_CTRL_C_MS = 1_000;

/** What this process started, in order; stopped in the reverse order. */
const owned: OwnedProcess[] = [];
let started = false;
let stopping: { at: number; bySignal: boolean } | undefined;
let stoppedAtOnce: NodeJS.Signals | undefined;

function own(p: OwnedProcess) {
  owned.push(p);
  void p.exited.then((how) => {
    // While starting, the step waiting on it reports the failure, with its reasons.
    if (!started || stopping) return;
    log(`${p.name} stopped (${how}); stopping everything`);
    void stop(1);
  });
}

async function stop(code: number, signal?: NodeJS.Signals) {
  if (stopping) return;
  stopping = { at: Date.now(), bySignal: signal !== undefined };
  const order = [...owned].reverse();
  if (signal)
    log(
      `${signal}: stopping ${order.map((p) => p.name).join(", then ")}; the worker first finishes what it is grading; Ctrl-C again stops at once`,
    );
  let exitCode = code;
  for (const p of order) {
    if (!p.running()) continue;
    p.child.kill(p.stopSignal);
    const how = await p.exited;
    if (how !== "exit 0" && !stoppedAtOnce) {
      log(`${p.name} ended with ${how} while stopping`);
      exitCode = 1;
    }
  }
  if (stoppedAtOnce) process.exit(128 + constants.signals[stoppedAtOnce]);
  log("stopped");
  process.exit(exitCode);
}

function stopAtOnce(signal: NodeJS.Signals) {
  stoppedAtOnce = signal;
  const skipped: string[] = [];
  for (const p of [...owned].reverse().filter((p) => p.running())) {
    try {
      process.kill(p.atOnce.wholeGroup ? -p.child.pid! : p.child.pid!, p.atOnce.signal);
    } catch {
      continue; // it has just exited
    }
    if (p.atOnce.skips) skipped.push(p.atOnce.skips);
  }
  log(`${signal} again: stopping at once; skipped ${skipped.length > 0 ? skipped.join("; ") : "nothing"}`);
}

function onSignal(signal: NodeJS.Signals) {
  if (!stopping) {
    void stop(0, signal);
    return;
  }
  if (stoppedAtOnce || Date.now() - stopping.at < SAME_CTRL_C_MS) return;
  stopAtOnce(signal);
}
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, onSignal);
// Should this process fail, what it started does not outlive it: each is asked to stop, as on Ctrl-C.
process.on("exit", () => {
  for (const p of owned.filter((p) => p.running())) p.child.kill(p.stopSignal);
});

/** Brings the gradebook's schema up to date and, on the first start, makes an instructor. */
async function prepareGradebook(databaseUrl: string) {
  const db = createDb(databaseUrl, { log, maxConnections: 2 });
  try {
    await migrate(db);
    if ((await countUsers(db, "instructor")) > 0) return;
    const admin = await addUser(db, "instructor", "instructor");
    const token = await issueToken(db, admin.id, "first start");
    await writeFile(join(dataDir, "instructor-token"), `${token}\n`, { mode: 0o600 }).catch(() => undefined);
    log(`first start: an instructor account was created. Its API token (shown once): ${token}`);
    log(`add more accounts with: DATABASE_URL=${databaseUrl} bin/labgrader users add NAME --role learner`);
  } finally {
    await db.destroy();
  }
}

function startNode(name: string, script: ServiceScript, env: NodeJS.ProcessEnv, skips: string) {
  const { command, args } = serviceCommand(script);
  spawnOwned(
    { name, stopSignal: "SIGTERM", atOnce: { signal: "SIGKILL", wholeGroup: true, skips } },
    command,
    args,
    { env, stdio: "inherit" },
    own,
  );
}

async function main() {
  const databaseUrl = process.env.DATABASE_URL ?? (await startPostgres(dataDir, { log, own })).url;
  if (stopping) return;
  const redisUrl = process.env.REDIS_URL ?? (await startRedis({ log, own }));
  if (stopping) return;
  await prepareGradebook(databaseUrl);
  if (stopping) return;
  const env = { ...process.env, DATABASE_URL: databaseUrl, REDIS_URL: redisUrl, PORT: String(port) };
  startNode(
    "the worker",
    "server/src/worker/main.ts",
    env,
    "the attempts the worker was grading (they are graded again at the next start, which also removes the clusters they leave)",
  );
  startNode("the server", "server/src/main.ts", env, "the server's open requests");
  started = true;
  log(`labgrader: http://127.0.0.1:${port} (API at /api/v1, OpenAPI at /api/v1/openapi.json); Ctrl-C stops it`);
}

main().catch((e: unknown) => {
  if (stopping?.bySignal) return;
  log(`could not start: ${messageChain(e)}`);
  void stop(1);
});
