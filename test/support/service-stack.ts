import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import pg from "pg";
import { GRADE_QUEUE } from "../../grader/src/contracts.ts";
import { hostCapacity } from "../../grader/src/grading/capacity.ts";
import type { SlotPool } from "../../grader/src/process/host-slots.ts";
import { createDb, migrate } from "../../server/src/db/connect.ts";
import { syncLabs } from "../../server/src/worker/labs-sync.ts";
import { LABS_DIR } from "../../grader/src/labs/load.ts";
import { labgrader } from "./cli.ts";
import { tempDir, testConfig } from "./env.ts";
import {
  createTestDatabase,
  freePort,
  sharedRedisUrl,
  startProcess,
  type ServiceProcess,
  type TestDatabase,
} from "./services.ts";

const run = promisify(execFile);

export interface StackOptions {
  /** A Redis of the test's own (to kill it); otherwise the shared one. */
  redisUrl?: string;
  /** Extra environment for workers (timings, concurrency). */
  workerEnv?: Record<string, string>;
  /** Extra environment for the service (its limits and their windows). */
  serverEnv?: Record<string, string>;
}

export interface Stack {
  baseUrl: string;
  db: TestDatabase;
  env: Record<string, string>;
  server: ServiceProcess;
  workers: ServiceProcess[];
  startWorker(extra?: Record<string, string>): Promise<ServiceProcess>;
  /** A new account and its token, made with `labgrader users add`. */
  user(name: string, role: "learner" | "instructor" | "ci"): Promise<{ id: number; token: string }>;
  stop(): Promise<void>;
}

/** The service and its workers as separate processes against a fresh database and queue prefix. */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const db = await createTestDatabase();
  const redis = options.redisUrl ? { url: options.redisUrl, stop: async () => undefined } : await sharedRedisUrl();
  const port = await freePort();
  const env: Record<string, string> = {
    DATABASE_URL: db.url,
    REDIS_URL: redis.url,
    PORT: String(port),
    LABGRADER_QUEUE_PREFIX: `lgtest-${randomBytes(4).toString("hex")}`,
    LABGRADER_UPLOAD_DIR: tempDir("uploads"),
    LABGRADER_WORK_DIR: tempDir("attempts"),
  };
  // Labs are recorded by workers at start; record them now so the service knows them before any worker runs.
  const kdb = createDb(db.url, { log: () => undefined, maxConnections: 1 });
  await migrate(kdb);
  await syncLabs(kdb, LABS_DIR);
  await kdb.destroy();
  const server = startProcess("server/src/main.ts", { ...env, ...options.serverEnv });
  await server.waitFor(/listening on/, 60_000);
  const workers: ServiceProcess[] = [];
  const stack: Stack = {
    baseUrl: `http://127.0.0.1:${port}`,
    db,
    env,
    server,
    workers,
    async startWorker(extra = {}) {
      const worker = startProcess("server/src/worker/main.ts", { ...env, ...options.workerEnv, ...extra });
      workers.push(worker);
      await worker.waitFor(/worker: ready/, 120_000);
      return worker;
    },
    async user(name, role) {
      const result = await labgrader(["users", "add", name, "--role", role, "--json"], 60_000, {
        ...process.env,
        DATABASE_URL: db.url,
      });
      if (result.code !== 0) throw new Error(`users add failed: ${result.stderr}`);
      const parsed = JSON.parse(result.stdout) as { id: number; token: string };
      return { id: parsed.id, token: parsed.token };
    },
    async stop() {
      await Promise.all(workers.map((w) => w.stop()));
      await server.stop();
      await db.drop().catch(() => undefined);
      await redis.stop();
    },
  };
  return stack;
}

export async function api<T = unknown>(
  stack: Pick<Stack, "baseUrl">,
  token: string | undefined,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: T; headers: Headers }> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  let payload: FormData | string | undefined;
  if (body instanceof FormData) payload = body;
  else if (body !== undefined) {
    headers["content-type"] = "application/json";
    payload = JSON.stringify(body);
  }
  const res = await fetch(`${stack.baseUrl}${path}`, { method, headers, body: payload });
  const text = await res.text();
  let parsed: unknown = text;
  if ((res.headers.get("content-type") ?? "").includes("json")) parsed = JSON.parse(text);
  return { status: res.status, body: parsed as T, headers: res.headers };
}

/** A signed-in account's session cookies, through the sign-in form as a browser would post it. */
export async function signInCookies(baseUrl: string, name: string, password: string): Promise<string> {
  const cookiesOf = (res: Response) =>
    res.headers
      .getSetCookie()
      .map((c) => c.split(";")[0])
      .join("; ");
  const form = await fetch(`${baseUrl}/sign-in`);
  const token = /name="_csrf" value="([^"]+)"/.exec(await form.text())?.[1] ?? "";
  const signedIn = await fetch(`${baseUrl}/sign-in`, {
    method: "POST",
    redirect: "manual",
    headers: { cookie: cookiesOf(form), "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ _csrf: token, name, password }),
  });
  if (signedIn.status !== 303) throw new Error(`sign-in answered ${signedIn.status}`);
  return cookiesOf(signedIn);
}

/** A multipart body with the archive as the field `project`, as a browser or curl -F sends it. */
export async function archiveForm(file: string, name = "project.tar.gz"): Promise<FormData> {
  const form = new FormData();
  form.append("project", new Blob([await readFile(file)]), name);
  return form;
}

/** `tar czf` of a project folder, as a learner would pack it (without build output). */
export async function tarProject(dir: string, out = join(tempDir("archive"), "project.tar.gz")): Promise<string> {
  await run("tar", ["czf", out, "--exclude=./bin", "--exclude=./cover.out", "-C", dir, "."]);
  return out;
}

export interface SseEvent {
  id: string;
  event: string;
  data: Record<string, unknown>;
}

/** Reads an attempt's event stream until the server ends it (after "done"). */
export async function readEvents(
  stack: Stack,
  token: string,
  attemptId: string,
  onEvent?: (e: SseEvent) => void,
): Promise<SseEvent[]> {
  const res = await fetch(`${stack.baseUrl}/api/v1/attempts/${attemptId}/events`, {
    headers: { authorization: `Bearer ${token}` },
  });
  if (res.status !== 200 || !res.body) throw new Error(`events: ${res.status} ${await res.text()}`);
  const events: SseEvent[] = [];
  let buffer = "";
  const decoder = new TextDecoder();
  for await (const chunk of res.body) {
    buffer += decoder.decode(chunk as Uint8Array, { stream: true });
    let cut: number;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      const fields = Object.fromEntries(
        block
          .split("\n")
          .filter((l) => !l.startsWith(":") && l.includes(": "))
          .map((l) => [l.slice(0, l.indexOf(": ")), l.slice(l.indexOf(": ") + 2)]),
      );
      if (!fields.data) continue;
      const e = {
        id: fields.id ?? "",
        event: fields.event ?? "message",
        data: JSON.parse(fields.data) as Record<string, unknown>,
      };
      events.push(e);
      onEvent?.(e);
    }
  }
  return events;
}

/**
 * Waits until an attempt has reached a phase (or gone past it), reading the gradebook, and says
 * which phase it found; a timeout explains where the attempt is.
 */
export async function waitForPhase(stack: Stack, attemptId: string, phase: string, timeoutMs: number): Promise<string> {
  const order = ["queued", "building", "provisioning", "deploying", "checking", "reporting", "done"];
  const deadline = Date.now() + timeoutMs;
  const client = new pg.Client({ connectionString: stack.db.url });
  await client.connect();
  try {
    for (;;) {
      const row = (await client.query("select phase from attempts where id = $1", [attemptId])).rows[0] as
        { phase: string } | undefined;
      if (row && order.indexOf(row.phase) >= order.indexOf(phase)) return row.phase;
      if (Date.now() > deadline)
        throw new Error(
          `attempt ${attemptId} did not reach ${phase} within ${timeoutMs} ms\n${await explainAttempt(stack, attemptId)}`,
        );
      await new Promise((r) => setTimeout(r, 500));
    }
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Polls an attempt until it is finished; a timeout says where the attempt is and what the grader is busy with. */
export async function waitForAttempt<T extends { status: string }>(
  stack: Stack,
  token: string,
  attemptId: string,
  timeoutMs = 840_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { body } = await api<T>(stack, token, "GET", `/api/v1/attempts/${attemptId}`);
    if (["graded", "not_gradable", "superseded"].includes(body.status)) return body;
    if (Date.now() > deadline)
      throw new Error(
        `attempt ${attemptId} still ${body.status} after ${timeoutMs} ms\n${await explainAttempt(stack, attemptId)}`,
      );
    await new Promise((r) => setTimeout(r, 1_000));
  }
}

/**
 * Why an attempt is where it is, for a failed wait's message: its phases and events with their
 * times, the queue (waiting, running), the host's budget (who holds the grade and build slots,
 * who waits), and the workers' last lines about it.
 */
export async function explainAttempt(stack: Stack, attemptId: string): Promise<string> {
  const lines: string[] = [];
  const client = new pg.Client({ connectionString: stack.db.url });
  try {
    await client.connect();
    const attempt = (await client.query("select * from attempts where id = $1", [attemptId])).rows[0] as
      Record<string, unknown> | undefined;
    const queuedAt = attempt?.queued_at instanceof Date ? attempt.queued_at.getTime() : Date.now();
    const since = (at: unknown) => (at instanceof Date ? `+${((at.getTime() - queuedAt) / 1000).toFixed(1)} s` : "-");
    lines.push(
      `attempt: status ${String(attempt?.status)}, phase ${String(attempt?.phase)}, runs ${String(attempt?.runs)}, now ${since(new Date())}`,
    );
    lines.push(
      `  phases: ${["building", "provisioning", "deploying", "checking", "reporting", "done"].map((p) => `${p} ${since(attempt?.[`${p}_at`])}`).join(", ")}`,
    );
    const events = (
      await client.query("select type, data, created_at from attempt_events where attempt_id = $1 order by id", [
        attemptId,
      ])
    ).rows as { type: string; data: unknown; created_at: Date }[];
    for (const e of events.filter((e) => e.type !== "check"))
      lines.push(`  ${since(e.created_at)} ${e.type} ${JSON.stringify(e.data)}`);
    lines.push(`  checks decided: ${events.filter((e) => e.type === "check").length}`);
  } catch (e) {
    lines.push(`(the gradebook could not be read: ${String(e)})`);
  } finally {
    await client.end().catch(() => undefined);
  }
  const connection = new Redis(stack.env.REDIS_URL!, { maxRetriesPerRequest: 1, lazyConnect: true });
  const queue = new Queue(GRADE_QUEUE, { connection, prefix: stack.env.LABGRADER_QUEUE_PREFIX });
  try {
    const counts = await queue.getJobCounts("waiting", "active", "delayed", "prioritized", "failed", "completed");
    const active = await queue.getActive();
    lines.push(
      `queue ${stack.env.LABGRADER_QUEUE_PREFIX}: ${JSON.stringify(counts)}; running: ${active.map((j) => String(j.data.attemptId).slice(0, 8)).join(", ") || "none"}`,
    );
  } catch (e) {
    lines.push(`(the queue could not be read: ${String(e)})`);
  } finally {
    await queue.close().catch(() => undefined);
    connection.disconnect();
  }
  for (const pool of Object.values(hostCapacity(testConfig())) as SlotPool[]) {
    const s = await pool.snapshot();
    lines.push(
      `host ${s.name}: ${s.held.length}/${s.size} held by [${s.held.map((h) => `${h.label} pid ${h.pid}`).join("; ")}], ${s.waiting.length} waiting [${s.waiting.map((h) => `${h.label} pid ${h.pid}`).join("; ")}]`,
    );
  }
  for (const [i, worker] of stack.workers.entries()) {
    const about = worker.output.filter((l) => l.includes(attemptId)).slice(-15);
    lines.push(
      `worker ${i} (pid ${worker.child.pid ?? "?"}), its last lines about this attempt:`,
      ...about.map((l) => `  ${l}`),
    );
  }
  return lines.join("\n");
}
