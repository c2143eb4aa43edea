import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { GRADE_JOB, GRADE_QUEUE, gradeJobId } from "../grader/src/contracts.ts";
import { enterPhase, finishAttempt, markNotGradable, startRun } from "../server/src/db/attempts.ts";
import { createDb, type Db } from "../server/src/db/connect.ts";
import { getLabRecord } from "../server/src/db/labs.ts";
import { acceptSubmission } from "../server/src/db/submissions.ts";
import { addUser, issueToken } from "../server/src/db/users.ts";
import { api, startStack, type Stack } from "./support/service-stack.ts";

/**
 * The service's /metrics against a real gradebook and queue, with no worker and no grade: the
 * attempts are moved through their phases with the gradebook's own helpers, as a worker would,
 * and their times then set to known values.
 */
const LAB = "composing-operators";
const noEvents = async () => undefined;

let stack: Stack;
let db: Db;
let queue: Queue;
let connection: Redis;
const tokens = {} as Record<"ines" | "ada" | "bob", string>;
const ids = {} as Record<"graded" | "notGradable" | "queued", string>;

/** Sets an attempt's times as seconds after one instant: which phases it reached, and when. */
async function setTimes(
  attemptId: string,
  seconds: Partial<
    Record<"queued" | "building" | "provisioning" | "deploying" | "checking" | "reporting" | "done", number>
  >,
) {
  const t0 = Date.parse("2026-12-01T10:00:00Z");
  const at = (s: number | undefined) => (s === undefined ? null : new Date(t0 + s * 1000));
  // queued_at is written once, by acceptance; Kysely's types keep it so, hence plain SQL here.
  await sql`
    update attempts set queued_at = ${at(seconds.queued) ?? new Date(t0)}, building_at = ${at(seconds.building)}, provisioning_at = ${at(seconds.provisioning)},
      deploying_at = ${at(seconds.deploying)}, checking_at = ${at(seconds.checking)}, reporting_at = ${at(seconds.reporting)}, done_at = ${at(seconds.done)}
    where id = ${attemptId}`.execute(db);
}

beforeAll(async () => {
  stack = await startStack();
  db = createDb(stack.db.url, { log: () => undefined, maxConnections: 2 });
  const users: Record<string, number> = {};
  for (const [name, role] of [
    ["ines", "instructor"],
    ["ada", "learner"],
    ["bob", "learner"],
  ] as const) {
    const user = await addUser(db, name, role);
    users[name] = user.id;
    tokens[name] = await issueToken(db, user.id, "metrics test");
  }
  const lab = await getLabRecord(db, LAB);
  if (!lab) throw new Error(`lab ${LAB} is not in the gradebook`);
  const submit = async (userId: number) =>
    (await acceptSubmission(db, { userId, labId: LAB, labVersion: lab.versionHash, kind: "reference" }, noEvents))
      .attemptId;

  // Graded: every phase, as a worker records them.
  ids.graded = await submit(users.ada!);
  const run = await startRun(db, ids.graded);
  if (!run) throw new Error("the attempt did not start");
  for (const phase of ["provisioning", "deploying", "checking", "reporting"] as const)
    await enterPhase(db, ids.graded, run.run, phase);
  await finishAttempt(db, ids.graded, run.run, { status: "graded", score: 10, maxScore: 10, findings: [], checks: [] });
  await setTimes(ids.graded, {
    queued: 0,
    building: 30,
    provisioning: 42,
    deploying: 46,
    checking: 50,
    reporting: 170,
    done: 171,
  });

  // Not gradable after its cluster did not start; an earlier run left a provisioning time behind.
  ids.notGradable = await submit(users.bob!);
  await startRun(db, ids.notGradable);
  await markNotGradable(
    db,
    ids.notGradable,
    "while grading attempt x: could not provision a kwok cluster: kwokctl exited with 1",
  );
  await setTimes(ids.notGradable, { queued: 0, building: 600, provisioning: 100, done: 800 });

  // Still queued, with its job waiting for a worker (none runs in this test).
  ids.queued = await submit(users.ada!);
  connection = new Redis(stack.env.REDIS_URL!, { maxRetriesPerRequest: null });
  queue = new Queue(GRADE_QUEUE, { connection, prefix: stack.env.LABGRADER_QUEUE_PREFIX });
  await queue.add(GRADE_JOB, { attemptId: ids.queued }, { jobId: gradeJobId(ids.queued) });
});

afterAll(async () => {
  await queue?.obliterate({ force: true }).catch(() => undefined);
  await queue?.close();
  connection?.disconnect();
  await db?.destroy();
  await stack?.stop();
});

async function scrape(token: string | undefined) {
  const res = await fetch(`${stack.baseUrl}/metrics`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: res.status, type: res.headers.get("content-type") ?? "", lines: (await res.text()).split("\n") };
}

describe("GET /metrics", () => {
  test("is refused without a token, and to a learner", async () => {
    expect((await scrape(undefined)).status).toBe(401);
    expect((await scrape("lg_not-a-token")).status).toBe(401);
    expect((await scrape(tokens.ada)).status).toBe(403);
  });

  test("tells an instructor the attempts, their phases, the queue and the HTTP requests", async () => {
    expect((await api(stack, tokens.ines, "GET", `/api/v1/attempts/${ids.graded}`)).status).toBe(200);
    const { status, type, lines } = await scrape(tokens.ines);
    expect(status).toBe(200);
    expect(type).toMatch(/^text\/plain; version=0\.0\.4/);
    const lab = `lab="${LAB}"`;

    for (const [state, count] of [
      ["queued", 1],
      ["running", 0],
      ["graded", 1],
      ["not_gradable", 1],
      ["superseded", 0],
    ] as const) {
      expect(lines).toContain(`labgrader_attempts{${lab},status="${state}"} ${count}`);
    }

    // Graded: building 12 s, provisioning 4 s, deploying 4 s, checking 120 s, reporting 1 s.
    // Not gradable: building 200 s until it was given up; its stale provisioning time is not counted.
    const bucket = (name: string, le: number) =>
      `labgrader_attempt_phase_duration_seconds_bucket{le="${le}",${lab},phase="${name}"}`;
    const phase = (name: string, suffix: "sum" | "count") =>
      `labgrader_attempt_phase_duration_seconds_${suffix}{${lab},phase="${name}"}`;
    expect(lines).toContain(`${bucket("building", 10)} 0`);
    expect(lines).toContain(`${bucket("building", 20)} 1`);
    expect(lines).toContain(`${bucket("building", 300)} 2`);
    expect(lines).toContain(`${phase("building", "sum")} 212`);
    expect(lines).toContain(`${phase("building", "count")} 2`);
    expect(lines).toContain(`${bucket("provisioning", 5)} 1`);
    expect(lines).toContain(`${phase("provisioning", "count")} 1`);
    expect(lines).toContain(`${phase("deploying", "count")} 1`);
    expect(lines).toContain(`${bucket("checking", 60)} 0`);
    expect(lines).toContain(`${bucket("checking", 120)} 1`);
    expect(lines).toContain(`${phase("reporting", "sum")} 1`);

    // Queued 30 s before grading began; the not-gradable attempt waited 600 s.
    expect(lines).toContain(`labgrader_attempt_queue_wait_seconds_bucket{le="10",${lab}} 0`);
    expect(lines).toContain(`labgrader_attempt_queue_wait_seconds_bucket{le="30",${lab}} 1`);
    expect(lines).toContain(`labgrader_attempt_queue_wait_seconds_count{${lab}} 2`);

    expect(lines).toContain(`labgrader_not_gradable_attempts_total{${lab},reason="cluster"} 1`);
    expect(lines).toContain('labgrader_queue_jobs{state="waiting"} 1');
    expect(lines).toContain('labgrader_queue_jobs{state="active"} 0');

    const requests = (route: string, statusClass: string) =>
      `labgrader_http_request_duration_seconds_count{method="GET",route="${route}",status_class="${statusClass}"}`;
    expect(lines).toContain(`${requests("/api/v1/attempts/:id", "2xx")} 1`);
    expect(lines.some((l) => l.startsWith(`${requests("/metrics", "4xx")} `))).toBe(true);
    expect(lines.join("\n")).not.toContain(ids.graded);
  });
});
