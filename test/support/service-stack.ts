import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { createDb, migrate } from "../../server/src/db/connect.ts";
import { syncLabs } from "../../grader/src/jobs/labs-sync.ts";
import { LABS_DIR } from "../../grader/src/labs/load.ts";
import { labgrader } from "./cli.ts";
import { tempDir } from "./env.ts";
import { createTestDatabase, freePort, sharedRedisUrl, startProcess, type ServiceProcess, type TestDatabase } from "./services.ts";

const run = promisify(execFile);

export interface StackOptions {
  /** A Redis of the test's own (to kill it); otherwise the shared one. */
  redisUrl?: string;
  /** Extra environment for workers (timings, concurrency). */
  workerEnv?: Record<string, string>;
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
  const kdb = createDb(db.url, 1);
  await migrate(kdb);
  await syncLabs(kdb, LABS_DIR);
  await kdb.destroy();
  const server = startProcess("server/src/main.ts", env);
  await server.waitFor(/listening on/, 60_000);
  const workers: ServiceProcess[] = [];
  const stack: Stack = {
    baseUrl: `http://127.0.0.1:${port}`,
    db,
    env,
    server,
    workers,
    async startWorker(extra = {}) {
      const worker = startProcess("grader/src/jobs/main.ts", { ...env, ...options.workerEnv, ...extra });
      workers.push(worker);
      await worker.waitFor(/worker: ready/, 120_000);
      return worker;
    },
    async user(name, role) {
      const result = await labgrader(["users", "add", name, "--role", role, "--json"], 60_000, { ...process.env, DATABASE_URL: db.url });
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

export async function api<T = unknown>(stack: Stack, token: string | undefined, method: string, path: string, body?: unknown): Promise<{ status: number; body: T; headers: Headers }> {
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
export async function readEvents(stack: Stack, token: string, attemptId: string, onEvent?: (e: SseEvent) => void): Promise<SseEvent[]> {
  const res = await fetch(`${stack.baseUrl}/api/v1/attempts/${attemptId}/events`, { headers: { authorization: `Bearer ${token}` } });
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
      const fields = Object.fromEntries(block.split("\n").filter((l) => !l.startsWith(":") && l.includes(": ")).map((l) => [l.slice(0, l.indexOf(": ")), l.slice(l.indexOf(": ") + 2)]));
      if (!fields.data) continue;
      const e = { id: fields.id ?? "", event: fields.event ?? "message", data: JSON.parse(fields.data) as Record<string, unknown> };
      events.push(e);
      onEvent?.(e);
    }
  }
  return events;
}

/** Polls an attempt until it is finished. */
export async function waitForAttempt<T extends { status: string }>(stack: Stack, token: string, attemptId: string, timeoutMs = 840_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { body } = await api<T>(stack, token, "GET", `/api/v1/attempts/${attemptId}`);
    if (["graded", "not_gradable", "superseded"].includes(body.status)) return body;
    if (Date.now() > deadline) throw new Error(`attempt ${attemptId} still ${body.status} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 1_000));
  }
}
