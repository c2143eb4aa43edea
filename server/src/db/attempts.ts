import { sql } from "kysely";
import type { CheckResult } from "../../../grader/src/contracts.ts";
import type { Db } from "./connect.ts";
import { appendEvent, type StoredEvent } from "./events.ts";
import { lockKey } from "./locks.ts";
import type { Attempt, AttemptPhase, CheckResultRow } from "./schema.ts";

export const PHASES: AttemptPhase[] = [
  "queued",
  "building",
  "provisioning",
  "deploying",
  "checking",
  "reporting",
  "done",
];

/** The column that records when an attempt (its latest run) entered each phase. */
export const PHASE_COLUMNS = {
  queued: "queued_at",
  building: "building_at",
  provisioning: "provisioning_at",
  deploying: "deploying_at",
  checking: "checking_at",
  reporting: "reporting_at",
  done: "done_at",
} as const satisfies Record<AttemptPhase, keyof Attempt>;

/** When the attempt entered the phase, or null if it has not (yet). */
export const phaseStartedAt = (a: Attempt, phase: AttemptPhase): Date | null => a[PHASE_COLUMNS[phase]];

export async function getAttempt(db: Db, id: string): Promise<Attempt | undefined> {
  if (!/^[0-9a-f-]{36}$/i.test(id)) return undefined;
  return db.selectFrom("attempts").selectAll().where("id", "=", id).executeTakeFirst();
}

/** Attempts newest first, of one lab, one user, or both. */
export async function listAttempts(
  db: Db,
  filter: { labId?: string; userId?: number },
  limit: number,
): Promise<Attempt[]> {
  let query = db.selectFrom("attempts").selectAll().orderBy("queued_at", "desc").limit(limit);
  if (filter.labId !== undefined) query = query.where("lab_id", "=", filter.labId);
  if (filter.userId !== undefined) query = query.where("user_id", "=", filter.userId);
  return query.execute();
}

/** Submissions of the lab with at least one finished attempt (graded or not gradable): what a regrade of the lab grades again. */
export async function finishedSubmissionsOfLab(db: Db, labId: string): Promise<string[]> {
  const rows = await db
    .selectFrom("attempts")
    .select("submission_id")
    .where("lab_id", "=", labId)
    .where("status", "in", ["graded", "not_gradable"])
    .groupBy("submission_id")
    .execute();
  return rows.map((r) => r.submission_id);
}

/** Every attempt on the lab by a learner account (or by the one account `userId`), with its name, by name. */
export async function learnersAttemptsOfLab(db: Db, labId: string, userId?: number) {
  const query = db
    .selectFrom("attempts")
    .innerJoin("users", "users.id", "attempts.user_id")
    .select([
      "attempts.id",
      "attempts.user_id",
      "users.name",
      "attempts.status",
      "attempts.score",
      "attempts.done_at",
      "attempts.queued_at",
    ])
    .where("attempts.lab_id", "=", labId);
  // One account's own attempts count whatever its role; the cohort is its learners.
  return (
    userId === undefined ? query.where("users.role", "=", "learner") : query.where("attempts.user_id", "=", userId)
  )
    .orderBy("users.name")
    .execute();
}

/** The points each passed required check earned, for each of the attempts: what a task's score is made of. */
export async function passedRequiredChecks(
  db: Db,
  attemptIds: string[],
): Promise<{ attempt_id: string; task: string; points: number }[]> {
  if (attemptIds.length === 0) return [];
  return db
    .selectFrom("check_results")
    .select(["attempt_id", "task", "points"])
    .where("attempt_id", "in", attemptIds)
    .where("required", "=", true)
    .where("status", "=", "passed")
    .execute();
}

export async function checkResultsOf(db: Db, attemptId: string): Promise<CheckResultRow[]> {
  return db
    .selectFrom("check_results")
    .selectAll()
    .where("attempt_id", "=", attemptId)
    .orderBy("decided_at_ms")
    .orderBy("check_id")
    .execute();
}

export interface Run {
  attempt: Attempt;
  run: number;
  /** Set when an earlier run of this attempt was cut off (its worker died). */
  restarted: boolean;
  events: StoredEvent[];
}

/** A queued attempt not started because its learner already has `limit` attempts running. */
export interface LearnerBusy {
  busy: true;
  running: number;
  limit: number;
}

/**
 * Starts a run of an attempt, or says it needs none: an attempt already finished (or superseded)
 * is never graded again, which keeps a re-delivered job from grading twice. With a limit of
 * attempts running per learner, a queued attempt whose learner is at the limit is not started
 * (it stays queued). The count is taken under a lock on the learner, so workers starting two of
 * their attempts at once never both take the last place. A run started again after its worker
 * died keeps the place it already holds.
 */
export function startRun(db: Db, attemptId: string): Promise<Run | undefined>;
export function startRun(db: Db, attemptId: string, runningPerLearner: number): Promise<Run | LearnerBusy | undefined>;
export async function startRun(
  db: Db,
  attemptId: string,
  runningPerLearner = Number.POSITIVE_INFINITY,
): Promise<Run | LearnerBusy | undefined> {
  return db.transaction().execute(async (tx) => {
    const current = await tx
      .selectFrom("attempts")
      .select(["user_id", "status"])
      .where("id", "=", attemptId)
      .executeTakeFirst();
    if (!current || (current.status !== "queued" && current.status !== "running")) return undefined;
    if (current.status === "queued" && Number.isFinite(runningPerLearner)) {
      await lockKey(tx, "running-attempts", current.user_id);
      const { running } = await tx
        .selectFrom("attempts")
        .select((eb) => eb.fn.countAll<string>().as("running"))
        .where("user_id", "=", current.user_id)
        .where("status", "=", "running")
        .executeTakeFirstOrThrow();
      if (Number(running) >= runningPerLearner)
        return { busy: true, running: Number(running), limit: runningPerLearner } satisfies LearnerBusy;
    }
    const attempt = await tx
      .updateTable("attempts")
      .set((eb) => ({ status: "running", phase: "building", runs: eb("runs", "+", 1), building_at: new Date() }))
      .where("id", "=", attemptId)
      .where("status", "in", ["queued", "running"])
      .returningAll()
      .executeTakeFirst();
    if (!attempt) return undefined;
    const events: StoredEvent[] = [];
    const restarted = attempt.runs > 1;
    if (restarted) {
      // The earlier run's verdicts came from a cluster that is gone; this run decides every check again.
      await tx.deleteFrom("check_results").where("attempt_id", "=", attemptId).execute();
      events.push(
        await appendEvent(tx, attemptId, attempt.runs, "restarted", {
          run: attempt.runs,
          reason: "the earlier run was interrupted; grading again from the start",
        }),
      );
    }
    events.push(await appendEvent(tx, attemptId, attempt.runs, "phase", { phase: "building" }));
    return { attempt, run: attempt.runs, restarted, events };
  });
}

/** Moves a running attempt to a phase; nothing happens if this run is no longer the current one. */
export async function enterPhase(
  db: Db,
  attemptId: string,
  run: number,
  phase: Exclude<AttemptPhase, "queued" | "done">,
): Promise<StoredEvent | undefined> {
  return db.transaction().execute(async (tx) => {
    const updated = await tx
      .updateTable("attempts")
      .set({ phase, [PHASE_COLUMNS[phase]]: new Date() })
      .where("id", "=", attemptId)
      .where("runs", "=", run)
      .where("status", "=", "running")
      .executeTakeFirst();
    if (updated.numUpdatedRows === 0n) return undefined;
    return appendEvent(tx, attemptId, run, "phase", { phase });
  });
}

function checkRow(attemptId: string, c: CheckResult, evidenceSha256: string | null) {
  return {
    attempt_id: attemptId,
    check_id: c.id,
    task: c.task,
    title: c.title,
    required: c.required,
    points: c.points,
    status: c.status,
    message: c.message,
    hint: c.hint,
    expected: c.expected ?? null,
    actual: c.actual ?? null,
    scenario: c.scenario ?? null,
    decided_at_ms: Math.round(c.decidedAtMs),
    evidence_sha256: evidenceSha256,
  };
}

/** Records one check's verdict the moment it is decided, for live pages. */
export async function recordCheck(
  db: Db,
  attemptId: string,
  run: number,
  check: CheckResult,
  evidenceSha256: string | null,
): Promise<StoredEvent | undefined> {
  return db.transaction().execute(async (tx) => {
    const current = await tx
      .selectFrom("attempts")
      .select("id")
      .where("id", "=", attemptId)
      .where("runs", "=", run)
      .where("status", "=", "running")
      .forUpdate()
      .executeTakeFirst();
    if (!current) return undefined;
    const row = checkRow(attemptId, check, evidenceSha256);
    await tx
      .insertInto("check_results")
      .values(row)
      .onConflict((c) => c.columns(["attempt_id", "check_id"]).doUpdateSet(row))
      .execute();
    return appendEvent(tx, attemptId, run, "check", {
      id: check.id,
      task: check.task,
      title: check.title,
      status: check.status,
      required: check.required,
      points: check.points,
      message: check.message,
    });
  });
}

export interface FinalResult {
  status: "graded" | "not_gradable";
  score: number;
  maxScore: number;
  reason?: string;
  findings: string[];
  checks: { check: CheckResult; evidenceSha256: string | null }[];
  logSha256?: string;
}

/**
 * Writes the final result, exactly once: only the run that is current and still running may
 * finish the attempt. Returns the events to publish, or undefined if another run finished it.
 */
export async function finishAttempt(
  db: Db,
  attemptId: string,
  run: number,
  result: FinalResult,
): Promise<StoredEvent[] | undefined> {
  return db.transaction().execute(async (tx) => {
    const now = new Date();
    const updated = await tx
      .updateTable("attempts")
      .set({
        status: result.status,
        phase: "done",
        score: result.score,
        max_score: result.maxScore,
        reason: result.reason ?? null,
        findings: JSON.stringify(result.findings),
        log_sha256: result.logSha256 ?? null,
        reporting_at: sql<Date>`coalesce(reporting_at, ${now})`,
        done_at: now,
      })
      .where("id", "=", attemptId)
      .where("runs", "=", run)
      .where("status", "=", "running")
      .executeTakeFirst();
    if (updated.numUpdatedRows === 0n) return undefined;
    await tx.deleteFrom("check_results").where("attempt_id", "=", attemptId).execute();
    if (result.checks.length > 0)
      await tx
        .insertInto("check_results")
        .values(result.checks.map((c) => checkRow(attemptId, c.check, c.evidenceSha256)))
        .execute();
    const done = await appendEvent(tx, attemptId, run, "done", {
      status: result.status,
      score: result.score,
      maxScore: result.maxScore,
      ...(result.reason ? { reason: result.reason } : {}),
    });
    return [done];
  });
}

/** A platform failure that retries did not cure: the attempt is not gradable (never a zero). */
export async function markNotGradable(db: Db, attemptId: string, reason: string): Promise<StoredEvent[] | undefined> {
  return db.transaction().execute(async (tx) => {
    const updated = await tx
      .updateTable("attempts")
      .set({ status: "not_gradable", phase: "done", reason, done_at: new Date() })
      .where("id", "=", attemptId)
      .where("status", "in", ["queued", "running"])
      .returning("runs")
      .executeTakeFirst();
    if (!updated) return undefined;
    return [await appendEvent(tx, attemptId, updated.runs, "done", { status: "not_gradable", reason })];
  });
}

/**
 * Tells the attempt's live page, once, that it waits for its learner's other attempts: a
 * postponed attempt asks again and again, and the page needs the reason only the first time.
 */
export async function noteLearnerBusy(db: Db, attemptId: string, busy: LearnerBusy): Promise<StoredEvent | undefined> {
  const told = await db
    .selectFrom("attempt_events")
    .select("id")
    .where("attempt_id", "=", attemptId)
    .where("type", "=", "waiting")
    .where(sql<string>`data->>'slot'`, "=", "learner")
    .executeTakeFirst();
  if (told) return undefined;
  return appendEvent(db, attemptId, 0, "waiting", { slot: "learner", running: busy.running, limit: busy.limit });
}

/** Attempts accepted but still queued after `olderThanMs`: the sweeper makes sure each has a job. */
export async function waitingAttempts(db: Db, olderThanMs: number): Promise<string[]> {
  const rows = await db
    .selectFrom("attempts")
    .select("id")
    .where("status", "in", ["queued", "running"])
    .where("queued_at", "<", new Date(Date.now() - olderThanMs))
    .orderBy("queued_at")
    .limit(1000)
    .execute();
  return rows.map((r) => r.id);
}
