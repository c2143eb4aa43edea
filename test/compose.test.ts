import { execFile } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { referenceOperatorDir, repoRoot } from "./support/env.ts";
import { freePort } from "./support/services.ts";
import { api, archiveForm, tarProject } from "./support/service-stack.ts";

const run = promisify(execFile);

/**
 * `docker compose up` as a user runs it: the images scripts/compose-images.sh made (setup runs it),
 * the project's docker-compose.yml, its own project name and port so that it stands beside any
 * other instance, and `down -v` at the end.
 */
const project = `labgrader-e2e-${process.pid}`;
/** A grade inside the worker's container waits its turn behind nothing; a build and a grade on a busy host. */
const GRADE_MS = 600_000;

interface Attempt {
  status: string;
  score: number | null;
  maxScore: number | null;
  reason?: string | null;
  checks: { id: string; status: string; message: string }[];
}

let env: NodeJS.ProcessEnv;
let baseUrl = "";

async function compose(args: string[], timeoutMs = 300_000): Promise<string> {
  try {
    const { stdout } = await run("docker", ["compose", "-p", project, ...args], {
      cwd: repoRoot,
      env,
      timeout: timeoutMs,
      maxBuffer: 64 * 1024 * 1024,
    });
    return stdout;
  } catch (e) {
    const failure = e as { stdout?: string; stderr?: string; message: string };
    throw new Error(
      `docker compose ${args.join(" ")}: ${failure.message}\n${failure.stdout ?? ""}${failure.stderr ?? ""}`,
      {
        cause: e,
      },
    );
  }
}

/** What Docker still holds of the project: containers, volumes, networks (by compose's project label). */
async function leftovers(): Promise<string[]> {
  const label = `label=com.docker.compose.project=${project}`;
  const list = async (args: string[], field: string) =>
    (await run("docker", [...args, "--filter", label, "--format", `{{.${field}}}`], { env })).stdout
      .split("\n")
      .filter(Boolean);
  return [
    ...(await list(["ps", "-a"], "Names")).map((n) => `container ${n}`),
    ...(await list(["volume", "ls"], "Name")).map((n) => `volume ${n}`),
    ...(await list(["network", "ls"], "Name")).map((n) => `network ${n}`),
  ];
}

/** An API call as the service's tests make it; anything but a 2xx ends the test with the service's answer. */
async function call<T>(token: string, method: string, path: string, body?: FormData | object): Promise<T> {
  const res = await api<T>({ baseUrl }, token, method, path, body);
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

async function addUser(name: string, role: "learner" | "instructor"): Promise<string> {
  const out = await compose(["exec", "-T", "server", "bin/labgrader", "users", "add", name, "--role", role, "--json"]);
  return (JSON.parse(out) as { token: string }).token;
}

async function gradeOf(token: string, lab: string, body: FormData | object): Promise<Attempt> {
  const { attemptId } = await call<{ attemptId: string }>(token, "POST", `/api/v1/labs/${lab}/submissions`, body);
  const deadline = Date.now() + GRADE_MS;
  for (;;) {
    const attempt = await call<Attempt>(token, "GET", `/api/v1/attempts/${attemptId}`);
    if (["graded", "not_gradable", "superseded"].includes(attempt.status)) return attempt;
    if (Date.now() > deadline) {
      const logs = await compose(["logs", "--no-color", "--tail", "60", "worker"]).catch((e: Error) => e.message);
      throw new Error(
        `attempt ${attemptId} still ${attempt.status} after ${GRADE_MS} ms; the worker's last lines:\n${logs}`,
      );
    }
    await new Promise((r) => setTimeout(r, 1_000));
  }
}

const why = (a: Attempt) =>
  [a.reason ?? "", ...a.checks.filter((c) => c.status !== "passed").map((c) => `${c.id}: ${c.message}`)].join("\n");

describe("docker compose", () => {
  beforeAll(async () => {
    const port = await freePort();
    // .env (written by compose-images.sh) names the local images; the port is this test's own.
    env = { ...process.env, LABGRADER_PORT: String(port), LABGRADER_WORKER_CONCURRENCY: "2" };
    baseUrl = `http://127.0.0.1:${port}`;
    await compose(["up", "--detach", "--wait", "--no-build", "--quiet-pull"], 600_000);
  }, 660_000);

  afterAll(async () => {
    await compose(["down", "--volumes", "--remove-orphans", "--timeout", "30"], 300_000);
  }, 330_000);

  test("the service answers ready, and the worker has synced every lab", async () => {
    const ready = await fetch(`${baseUrl}/readyz`);
    expect(await ready.json()).toEqual({ ok: true, db: "ok", redis: "ok" });
    const teacher = await addUser("compose-teacher", "instructor");
    const labs = await call<{ labs: { id: string }[] }>(teacher, "GET", "/api/v1/labs");
    const folders = readdirSync(join(repoRoot, "labs"), { withFileTypes: true }).filter((d) => d.isDirectory());
    expect(labs.labs.map((l) => l.id).sort()).toEqual(folders.map((d) => d.name).sort());
  });

  test("an instructor's reference submission gets full marks on kwok inside the worker container", async () => {
    const teacher = await addUser("compose-reference", "instructor");
    const attempt = await gradeOf(teacher, "composing-operators", { reference: true });
    expect(attempt.status, why(attempt)).toBe("graded");
    expect(attempt.score, why(attempt)).toBe(attempt.maxScore);
  });

  test("a learner's uploaded project is built in the worker's sandbox and graded", async () => {
    const learner = await addUser("compose-learner", "learner");
    const archive = await tarProject(referenceOperatorDir);
    const attempt = await gradeOf(learner, "designing-the-api", await archiveForm(archive));
    expect(attempt.status, why(attempt)).toBe("graded");
    expect(attempt.score, why(attempt)).toBe(attempt.maxScore);
    expect(attempt.maxScore).toBeGreaterThan(0);
  });

  test("down --volumes leaves no container, volume or network of the project", async () => {
    expect(await leftovers()).not.toEqual([]);
    // The worker's anonymous volume carries no project label: it is found through the containers' mounts.
    const ids = (await compose(["ps", "--all", "--quiet"])).split("\n").filter(Boolean);
    const mounts = (
      await run("docker", ["inspect", "--format", "{{range .Mounts}}{{.Name}} {{end}}", ...ids], { env })
    ).stdout
      .split(/\s+/)
      .filter(Boolean);
    expect(mounts.length).toBeGreaterThanOrEqual(3);
    await compose(["down", "--volumes", "--remove-orphans", "--timeout", "30"], 300_000);
    expect(await leftovers()).toEqual([]);
    const volumes = (await run("docker", ["volume", "ls", "--quiet"], { env })).stdout.split("\n");
    expect(mounts.filter((m) => volumes.includes(m))).toEqual([]);
  });
});
