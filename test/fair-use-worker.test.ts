import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { DelayedError, Queue, Worker, type Job } from "bullmq";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { GRADE_JOB, GRADE_JOB_OPTIONS, GRADE_QUEUE, gradeJobId, type GradeResult } from "../grader/src/contracts.ts";
import type { GradeOptions } from "../grader/src/grading/grade.ts";
import { createGradeAttempt, type GradeAttemptDeps } from "../server/src/worker/grade-attempt.ts";
import { syncLabs, type LoadedLab } from "../server/src/worker/labs-sync.ts";
import { retainOnce } from "../server/src/worker/retention.ts";
import { LABS_DIR } from "../grader/src/labs/load.ts";
import { putBlob, sha256 } from "../server/src/db/blobs.ts";
import { createDb, migrate, type Db } from "../server/src/db/connect.ts";
import { acceptSubmission, addAttempt } from "../server/src/db/submissions.ts";
import { addUser } from "../server/src/db/users.ts";
import { tempDir } from "./support/env.ts";
import { createTestDatabase, sharedRedisUrl, type TestDatabase } from "./support/services.ts";

const LAB = "composing-operators";
const DAY_MS = 24 * 3_600_000;
const RUNNING_PER_LEARNER = 2;
const RETRY_MS = 200;
const noop = async () => undefined;

let database: TestDatabase;
let redis: { url: string; stop(): Promise<void> };
let db: Db;
let labs: Map<string, LoadedLab>;
let queue: Queue;
const workers: Worker[] = [];
const failures: string[] = [];
let postponed = 0;

/**
 * The grade itself is a stand-in that holds each attempt until the test lets it finish; the queue,
 * the workers, the processor, Postgres and startRun's limit are the real ones.
 */
const owners = new Map<string, number>();
const started: string[] = [];
const releases = new Map<string, () => void>();
const running = new Map<number, number>();
const peak = new Map<number, number>();
async function standInGrade(options: GradeOptions): Promise<GradeResult> {
  const attemptId = options.operatorName.replace(/^attempt /, "");
  const userId = owners.get(attemptId)!;
  running.set(userId, (running.get(userId) ?? 0) + 1);
  peak.set(userId, Math.max(peak.get(userId) ?? 0, running.get(userId)!));
  started.push(attemptId);
  await new Promise<void>((resolve) => releases.set(attemptId, resolve));
  running.set(userId, running.get(userId)! - 1);
  return {
    lab: LAB,
    labTitle: options.lab.title,
    provider: "kwok",
    operator: options.operatorName,
    status: "graded",
    score: 1,
    maxScore: 1,
    startedAt: new Date().toISOString(),
    durationMs: 0,
    findings: [],
    checks: [],
  };
}

async function until(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline)
      throw new Error(
        `${what}: not within ${timeoutMs} ms (started: ${started.join(", ")}; postponed ${postponed} times; failures: ${failures.join("; ")})`,
      );
    await sleep(50);
  }
}

const statusOf = async (attemptId: string) =>
  await db.selectFrom("attempts").select(["status", "runs"]).where("id", "=", attemptId).executeTakeFirstOrThrow();

beforeAll(async () => {
  database = await createTestDatabase();
  db = createDb(database.url, { log: () => undefined, maxConnections: 8 });
  await migrate(db);
  labs = await syncLabs(db, LABS_DIR);
  redis = await sharedRedisUrl();
  const prefix = `lgtest-${randomBytes(4).toString("hex")}`;
  queue = new Queue(GRADE_QUEUE, { connection: { url: redis.url }, prefix });
  const deps: GradeAttemptDeps = {
    db,
    publish: noop,
    labs,
    grading: {} as GradeAttemptDeps["grading"],
    workRoot: tempDir("attempts"),
    perLearner: { running: RUNNING_PER_LEARNER, retryMs: RETRY_MS },
    gradeOperator: standInGrade,
    log: () => undefined,
  };
  const gradeAttempt = createGradeAttempt(deps);
  const processor = async (job: Job, token?: string) => {
    try {
      return await gradeAttempt(job, token);
    } catch (e) {
      if (e instanceof DelayedError) postponed++;
      throw e;
    }
  };
  // Two workers, as two worker processes would be: the limit holds across them.
  for (let i = 0; i < 2; i++) {
    const worker = new Worker(GRADE_QUEUE, processor, { connection: { url: redis.url }, prefix, concurrency: 3 });
    worker.on("failed", (job, error) => failures.push(`${String(job?.data.attemptId)}: ${error.message}`));
    workers.push(worker);
  }
});

afterAll(async () => {
  for (const release of releases.values()) release();
  await Promise.all(workers.map((w) => w.close()));
  await queue?.obliterate({ force: true }).catch(() => undefined);
  await queue?.close();
  await db?.destroy();
  await database?.drop();
  await redis?.stop();
});

const enqueue = (attemptId: string) =>
  queue.add(GRADE_JOB, { attemptId }, { ...GRADE_JOB_OPTIONS, jobId: gradeJobId(attemptId) });

describe("attempts running at once per learner", () => {
  test("a learner's third attempt stays queued (not failed, no retry spent) while two of theirs run, and starts when one finishes", async () => {
    const version = labs.get(LAB)!.versionHash;
    const lena = await addUser(db, "lena", "learner");
    const max = await addUser(db, "max", "learner");
    const first = await acceptSubmission(
      db,
      { userId: lena.id, labId: LAB, labVersion: version, kind: "reference" },
      noop,
    );
    const lenas = [
      first.attemptId,
      await addAttempt(db, first.submissionId, version, noop),
      await addAttempt(db, first.submissionId, version, noop),
    ];
    const maxs = (
      await acceptSubmission(db, { userId: max.id, labId: LAB, labVersion: version, kind: "reference" }, noop)
    ).attemptId;
    for (const id of lenas) owners.set(id, lena.id);
    owners.set(maxs, max.id);
    for (const id of [...lenas, maxs]) await enqueue(id);

    await until(
      "two of lena's attempts and max's attempt running",
      () => started.filter((id) => owners.get(id) === lena.id).length === 2 && started.includes(maxs),
    );
    // More postponements than the job has retries: had any counted as a failed run, the attempt would be lost.
    await until("lena's third attempt postponed again and again", () => postponed > GRADE_JOB_OPTIONS.attempts + 1);
    const waiting = lenas.find((id) => !started.includes(id))!;
    expect(await statusOf(waiting)).toEqual({ status: "queued", runs: 0 });
    const job = (await queue.getJob(gradeJobId(waiting)))!;
    expect(["delayed", "waiting", "active"]).toContain(await job.getState());
    expect(job.attemptsMade).toBe(0);
    expect(failures).toEqual([]);
    const told = await db
      .selectFrom("attempt_events")
      .select("data")
      .where("attempt_id", "=", waiting)
      .where("type", "=", "waiting")
      .execute();
    expect(told.map((e) => e.data)).toEqual([{ slot: "learner", running: 2, limit: 2 }]);

    releases.get(started.find((id) => owners.get(id) === lena.id)!)!();
    await until("lena's third attempt started once one of hers finished", () => started.includes(waiting));
    for (const id of [...lenas, maxs]) {
      await until(`attempt ${id} started`, () => releases.has(id));
      releases.get(id)!();
    }
    await until("every attempt graded", async () =>
      (await Promise.all([...lenas, maxs].map(statusOf))).every((a) => a.status === "graded"),
    );
    for (const id of [...lenas, maxs]) expect(await statusOf(id)).toEqual({ status: "graded", runs: 1 });
    expect(peak.get(lena.id)).toBe(RUNNING_PER_LEARNER);
    expect(failures).toEqual([]);
    expect(await job.getState()).toBe("completed");
  });
});

describe("archive retention", () => {
  const ago = (ms: number) => new Date(Date.now() - ms);

  test("archives of submissions superseded past the retention are deleted (bytes still referred to, or stored again, are kept); graded, not gradable, recent and regraded ones keep theirs", async () => {
    const version = labs.get(LAB)!.versionHash;
    const rita = await addUser(db, "rita", "learner");
    /** A submission whose attempts ended as given; its archive holds `bytes`. */
    const submission = async (
      bytes: string,
      ends: { status: "graded" | "not_gradable" | "superseded"; daysAgo: number }[],
    ) => {
      const accepted = await acceptSubmission(
        db,
        {
          userId: rita.id,
          labId: LAB,
          labVersion: version,
          kind: "archive",
          archiveSha256: await putBlob(db, Buffer.from(bytes)),
        },
        noop,
      );
      const attempts = [accepted.attemptId];
      while (attempts.length < ends.length) attempts.push(await addAttempt(db, accepted.submissionId, version, noop));
      for (const [i, end] of ends.entries())
        await db
          .updateTable("attempts")
          .set({ status: end.status, phase: "done", done_at: ago(end.daysAgo * DAY_MS) })
          .where("id", "=", attempts[i]!)
          .execute();
      return accepted.submissionId;
    };
    const cases = {
      graded: await submission("graded", [{ status: "graded", daysAgo: 30 }]),
      superseded: await submission("superseded", [{ status: "superseded", daysAgo: 8 }]),
      recent: await submission("recent", [{ status: "superseded", daysAgo: 6 }]),
      notGradable: await submission("not gradable", [{ status: "not_gradable", daysAgo: 30 }]),
      regraded: await submission("regraded", [
        { status: "superseded", daysAgo: 30 },
        { status: "graded", daysAgo: 20 },
      ]),
      sharedSuperseded: await submission("shared", [{ status: "superseded", daysAgo: 30 }]),
      sharedGraded: await submission("shared", [{ status: "graded", daysAgo: 30 }]),
      uploadedAgain: await submission("uploaded again", [{ status: "superseded", daysAgo: 30 }]),
    };
    await db
      .updateTable("blobs")
      .set({ stored_at: ago(40 * DAY_MS) })
      .execute();
    // The same bytes arrive again, as the sweep runs: stored, their new submission not yet recorded.
    await putBlob(db, Buffer.from("uploaded again"));
    await sql`insert into rate_limit_hits (bucket, expires_at) values ('a', now() - interval '1 second'), ('b', now() - interval '1 second'), ('c', now() + interval '1 hour')`.execute(
      db,
    );
    await sql`insert into stream_leases (user_id, expires_at) values (${rita.id}, now() - interval '1 second'), (${rita.id}, now() + interval '1 minute')`.execute(
      db,
    );

    const deleted = await retainOnce({ db, archiveRetentionMs: 7 * DAY_MS, log: () => undefined });
    expect(deleted).toEqual({ archives: 3, blobs: 1, rateLimitHits: 2, streamLeases: 1 });

    const archives = Object.fromEntries(
      await Promise.all(
        Object.entries(cases).map(
          async ([name, id]) =>
            [
              name,
              await db
                .selectFrom("submissions")
                .select(["archive_sha256", "archive_deleted_at"])
                .where("id", "=", id)
                .executeTakeFirstOrThrow(),
            ] as const,
        ),
      ),
    );
    const gone = Object.entries(archives)
      .filter(([, s]) => s.archive_sha256 === null && s.archive_deleted_at !== null)
      .map(([name]) => name);
    expect(gone.sort()).toEqual(["sharedSuperseded", "superseded", "uploadedAgain"]);
    const blobs = new Set((await db.selectFrom("blobs").select("sha256").execute()).map((b) => b.sha256));
    const kept = (bytes: string) => blobs.has(sha256(Buffer.from(bytes)));
    expect({
      superseded: kept("superseded"),
      shared: kept("shared"),
      uploadedAgain: kept("uploaded again"),
      graded: kept("graded"),
      recent: kept("recent"),
      notGradable: kept("not gradable"),
      regraded: kept("regraded"),
    }).toEqual({
      superseded: false,
      shared: true,
      uploadedAgain: true,
      graded: true,
      recent: true,
      notGradable: true,
      regraded: true,
    });
    expect(await retainOnce({ db, archiveRetentionMs: 7 * DAY_MS, log: () => undefined })).toEqual({
      archives: 0,
      blobs: 0,
      rateLimitHits: 0,
      streamLeases: 0,
    });

    // Regrading a submission whose archive is gone ends with a reason, not a lost job or a zero.
    const regrade = await addAttempt(db, cases.superseded, version, noop);
    owners.set(regrade, rita.id);
    await enqueue(regrade);
    await until("the regrade refused", () => failures.some((f) => f.startsWith(regrade)));
    expect(failures.find((f) => f.startsWith(regrade))).toMatch(
      /the project archive of submission .* was deleted on .*; submit the project again to have it graded/,
    );
    expect(started).not.toContain(regrade);
  });
});
