import { existsSync, readdirSync } from "node:fs";
import { Queue } from "bullmq";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { GRADE_QUEUE, gradeJobId } from "../grader/src/contracts.ts";
import { finishAttempt, startRun } from "../server/src/db/attempts.ts";
import { capJson, putBlob } from "../server/src/db/blobs.ts";
import { createDb } from "../server/src/db/connect.ts";
import { referenceOperatorDir } from "./support/env.ts";
import { gzipBomb, randomName, rawTarGz, writeTemp } from "./support/hostile-archives.ts";
import { api, archiveForm, readEvents, startStack, tarProject, type Stack } from "./support/service-stack.ts";

const LAB = "composing-operators";
const COURSE = "k8s-operators";
type Who = "anonymous" | "learnerA" | "learnerB" | "instructor" | "ci";
const WHO: Who[] = ["anonymous", "learnerA", "learnerB", "instructor", "ci"];

let stack: Stack;
const tokens = {} as Record<Who, string | undefined>;
const ids = { learnerA: 0, submissionA: "", attemptA: "", attemptCi: "" };

beforeAll(async () => {
  stack = await startStack();
  tokens.anonymous = undefined;
  const [learnerA, learnerB, instructor, ciAccount] = await Promise.all([
    stack.user("learner-a", "learner"),
    stack.user("learner-b", "learner"),
    stack.user("instructor", "instructor"),
    stack.user("ci", "ci"),
  ]);
  Object.assign(tokens, {
    learnerA: learnerA.token,
    learnerB: learnerB.token,
    instructor: instructor.token,
    ci: ciAccount.token,
  });
  ids.learnerA = learnerA.id;

  const upload = await api<{ submissionId: string; attemptId: string }>(
    stack,
    tokens.learnerA,
    "POST",
    `/api/v1/labs/${LAB}/submissions`,
    await archiveForm(await tarProject(referenceOperatorDir)),
  );
  expect(upload.status).toBe(202);
  ids.submissionA = upload.body.submissionId;
  ids.attemptA = upload.body.attemptId;
  const ci = await api<{ attemptId: string }>(stack, tokens.ci, "POST", `/api/v1/labs/${LAB}/submissions`, {
    reference: true,
  });
  expect(ci.status).toBe(202);
  ids.attemptCi = ci.body.attemptId;

  // Learner A's attempt gets a finished result with evidence and a log, as a worker would record it
  // (no worker runs in this file: these tests are about who may read what).
  const db = createDb(stack.db.url, { log: () => undefined, maxConnections: 1 });
  const run = await startRun(db, ids.attemptA);
  const evidence = await putBlob(
    db,
    capJson({ objects: [{ kind: "Backup" }], timeline: [], events: [], logs: [] }, 10_000),
  );
  const check = {
    id: "backup-crd-installed",
    task: "1.2",
    title: "The Backup CRD",
    required: true,
    points: 1,
    status: "passed" as const,
    message: "ok",
    hint: "h",
    decidedAtMs: 5,
  };
  await finishAttempt(db, ids.attemptA, run!.run, {
    status: "graded",
    score: 1,
    maxScore: 48,
    findings: [],
    checks: [{ check, evidenceSha256: evidence }],
    logSha256: await putBlob(db, Buffer.from("manager started\n")),
  });
  await db.destroy();
});

afterAll(async () => {
  await stack?.stop();
});

interface Row {
  route: string;
  method: "GET" | "POST";
  path: () => string;
  body?: () => unknown;
  expect: Record<Who, number>;
}

const row = (
  method: Row["method"],
  route: string,
  path: () => string,
  codes: [number, number, number, number, number],
  body?: () => unknown,
): Row => ({
  route,
  method,
  path,
  ...(body ? { body } : {}),
  expect: Object.fromEntries(WHO.map((w, i) => [w, codes[i]!])) as Record<Who, number>,
});

//                                 anonymous learnerA learnerB instructor ci
const table: Row[] = [
  row("GET", "/me", () => "/api/v1/me", [401, 200, 200, 200, 200]),
  row("GET", "/labs", () => "/api/v1/labs", [401, 200, 200, 200, 200]),
  row("GET", "/labs/{labId}", () => `/api/v1/labs/${LAB}`, [401, 200, 200, 200, 200]),
  row("GET", "/labs/{labId}", () => "/api/v1/labs/no-such-lab", [401, 404, 404, 404, 404]),
  row(
    "POST",
    "/labs/{labId}/submissions",
    () => `/api/v1/labs/${LAB}/submissions`,
    [401, 403, 403, 202, 202],
    () => ({ reference: true }),
  ),
  row(
    "POST",
    "/labs/{labId}/submissions",
    () => `/api/v1/labs/${LAB}/submissions`,
    [401, 422, 422, 422, 422],
    () => ({ image: "registry.example.com/me/op:v1" }),
  ),
  row(
    "POST",
    "/labs/{labId}/submissions",
    () => "/api/v1/labs/no-such-lab/submissions",
    [401, 404, 404, 404, 404],
    () => ({ reference: true }),
  ),
  row("GET", "/labs/{labId}/attempts", () => `/api/v1/labs/${LAB}/attempts`, [401, 200, 200, 200, 200]),
  row("POST", "/labs/{labId}/regrade", () => `/api/v1/labs/${LAB}/regrade`, [401, 403, 403, 202, 403]),
  row("GET", "/submissions/{id}", () => `/api/v1/submissions/${ids.submissionA}`, [401, 200, 404, 200, 404]),
  row("GET", "/attempts/{id}", () => `/api/v1/attempts/${ids.attemptA}`, [401, 200, 404, 200, 404]),
  row("GET", "/attempts/{id}", () => `/api/v1/attempts/${ids.attemptCi}`, [401, 404, 404, 200, 200]),
  row("GET", "/attempts/{id}/events", () => `/api/v1/attempts/${ids.attemptA}/events`, [401, 200, 404, 200, 404]),
  row(
    "GET",
    "/attempts/{id}/checks/{checkId}/evidence",
    () => `/api/v1/attempts/${ids.attemptA}/checks/backup-crd-installed/evidence`,
    [401, 200, 404, 200, 404],
  ),
  row("GET", "/attempts/{id}/log", () => `/api/v1/attempts/${ids.attemptA}/log`, [401, 200, 404, 200, 404]),
  row("POST", "/attempts/{id}/regrade", () => `/api/v1/attempts/${ids.attemptA}/regrade`, [401, 403, 403, 202, 403]),
  row("GET", "/gradebook", () => `/api/v1/gradebook?lab=${LAB}`, [401, 403, 403, 200, 403]),
  row("GET", "/gradebook", () => `/api/v1/gradebook?lab=${LAB}&format=csv`, [401, 403, 403, 200, 403]),
  row("GET", "/courses", () => "/api/v1/courses", [401, 200, 200, 200, 200]),
  row("GET", "/courses/{courseId}", () => `/api/v1/courses/${COURSE}`, [401, 200, 200, 200, 200]),
  row(
    "GET",
    "/courses/{courseId}",
    () => `/api/v1/courses/${COURSE}?learner=${ids.learnerA}`,
    [401, 200, 403, 200, 403],
  ),
  row("GET", "/courses/{courseId}", () => "/api/v1/courses/no-such-course", [401, 404, 404, 404, 404]),
];

describe("authorization", () => {
  test("the table covers every route of the OpenAPI document", async () => {
    const { body } = await api<{ paths: Record<string, Record<string, unknown>> }>(
      stack,
      undefined,
      "GET",
      "/api/v1/openapi.json",
    );
    const documented = Object.entries(body.paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`),
    );
    const covered = new Set(table.map((r) => `${r.method} ${r.route}`));
    expect(documented.filter((r) => !covered.has(r))).toEqual([]);
  });

  test.each(
    table.flatMap((r) => WHO.map((who) => ({ r, who, name: `${r.method} ${r.route} as ${who} -> ${r.expect[who]}` }))),
  )("$name", async ({ r, who }) => {
    const response = await api(stack, tokens[who], r.method, r.path(), r.body?.());
    expect(response.status, JSON.stringify(response.body).slice(0, 300)).toBe(r.expect[who]);
  });

  test("a learner's attempt list holds only their own attempts", async () => {
    const a = await api<{ attempts: { id: string }[] }>(stack, tokens.learnerA, "GET", `/api/v1/labs/${LAB}/attempts`);
    const b = await api<{ attempts: { id: string }[] }>(
      stack,
      tokens.learnerB,
      "GET",
      `/api/v1/labs/${LAB}/attempts?user=${ids.learnerA}`,
    );
    expect(a.body.attempts.map((x) => x.id)).toContain(ids.attemptA);
    expect(b.body.attempts).toEqual([]);
  });

  test("the owner's event stream replays the recorded phases and verdicts, then ends", async () => {
    const events = await readEvents(stack, tokens.learnerA!, ids.attemptA);
    expect(events.map((e) => e.event)).toEqual(["phase", "phase", "done"]);
    expect(events.map((e) => e.data.phase ?? e.data.status)).toEqual(["queued", "building", "graded"]);
  });

  test("the gradebook CSV has a row per learner with points per task", async () => {
    const csv = await api<string>(stack, tokens.instructor, "GET", `/api/v1/gradebook?lab=${LAB}&format=csv`);
    const lines = csv.body.trim().split("\r\n");
    expect(lines[0]).toMatch(/^user,attempts,status,score,max_score,task 1\.2,/);
    expect(lines.find((l) => l.startsWith("learner-a,"))).toMatch(/^learner-a,\d+,graded,1,50,1,/);
  });
});

describe("the queue", () => {
  test("a learner's new submission supersedes their attempt still waiting in the queue, and its job is removed", async () => {
    const learner = await stack.user("learner-c", "learner");
    const archive = await tarProject(referenceOperatorDir);
    const first = await api<{ attemptId: string }>(
      stack,
      learner.token,
      "POST",
      `/api/v1/labs/${LAB}/submissions`,
      await archiveForm(archive),
    );
    const queue = new Queue(GRADE_QUEUE, {
      connection: { url: stack.env.REDIS_URL },
      prefix: stack.env.LABGRADER_QUEUE_PREFIX,
    });
    try {
      expect(await queue.getJob(gradeJobId(first.body.attemptId))).toBeDefined();
      const second = await api<{ attemptId: string; superseded: string[] }>(
        stack,
        learner.token,
        "POST",
        `/api/v1/labs/${LAB}/submissions`,
        await archiveForm(archive),
      );
      expect(second.body.superseded).toEqual([first.body.attemptId]);
      const old = await api<{ status: string }>(
        stack,
        learner.token,
        "GET",
        `/api/v1/attempts/${first.body.attemptId}`,
      );
      expect(old.body.status).toBe("superseded");
      expect(await queue.getJob(gradeJobId(first.body.attemptId))).toBeUndefined();
      expect(await queue.getJob(gradeJobId(second.body.attemptId))).toBeDefined();
      const events = await readEvents(stack, learner.token, first.body.attemptId);
      expect(events.map((e) => e.event)).toEqual(["phase", "superseded"]);
    } finally {
      await queue.close();
    }
  });
});

describe("uploads are hostile until proven otherwise", () => {
  const outside = randomName();
  const cases: { name: string; file: () => Promise<string>; status: number; error: RegExp }[] = [
    {
      name: "path traversal",
      file: () =>
        writeTemp(
          "a.tar.gz",
          rawTarGz([
            { name: "go.mod", content: "module x\n" },
            { name: `../../../../tmp/${outside}`, content: "x" },
          ]),
        ),
      status: 400,
      error: /\.\./,
    },
    {
      name: "absolute path",
      file: () => writeTemp("a.tar.gz", rawTarGz([{ name: `/tmp/${outside}`, content: "x" }])),
      status: 400,
      error: /absolute/i,
    },
    {
      name: "symlink that leaves the tree",
      file: () =>
        writeTemp(
          "a.tar.gz",
          rawTarGz([
            { name: "go.mod", content: "module x\n" },
            { name: "etc", type: "symlink", linkname: "/tmp" },
            { name: `etc/${outside}`, content: "x" },
          ]),
        ),
      status: 400,
      error: /link/i,
    },
    { name: "gzip bomb", file: () => gzipBomb(512 * 1024 * 1024), status: 413, error: /./ },
    {
      name: "not an archive",
      file: () => writeTemp("a.tar.gz", Buffer.from("this is not an archive at all")),
      status: 400,
      error: /archive/i,
    },
    {
      name: "no go.mod",
      file: () => writeTemp("a.tar.gz", rawTarGz([{ name: "README.md", content: "hello" }])),
      status: 422,
      error: /go\.mod/,
    },
  ];
  test.each(cases)(
    "$name is refused with $status",
    async ({ file, status, error }) => {
      const response = await api<{ error: string }>(
        stack,
        tokens.learnerA,
        "POST",
        `/api/v1/labs/${LAB}/submissions`,
        await archiveForm(await file()),
      );
      expect(response.status).toBe(status);
      expect(response.body.error).toMatch(error);
      expect(existsSync(`/tmp/${outside}`)).toBe(false);
      expect(readdirSync(stack.env.LABGRADER_UPLOAD_DIR!)).toEqual([]);
    },
    120_000,
  );

  test("an upload over the size limit is refused with 413", async () => {
    const big = await writeTemp("big.tar.gz", Buffer.alloc(21 * 1024 * 1024, 7));
    const response = await api<{ error: string }>(
      stack,
      tokens.learnerA,
      "POST",
      `/api/v1/labs/${LAB}/submissions`,
      await archiveForm(big),
    );
    expect(response.status).toBe(413);
    expect(readdirSync(stack.env.LABGRADER_UPLOAD_DIR!)).toEqual([]);
  });

  test("the service is still healthy after all of it", async () => {
    expect((await api(stack, undefined, "GET", "/readyz")).status).toBe(200);
  });

  // With Node's 5 s, a client reusing an idle connection as the server drops it lost its upload
  // (EPIPE) on a busy host; clients drop idle connections before the time a server advertises.
  test("keeps an idle connection for the client's next request for a minute, and says so", async () => {
    const { headers } = await api(stack, undefined, "GET", "/readyz");
    expect(headers.get("keep-alive")).toBe("timeout=65");
  });
});
