import { deleteUnreferencedBlobs } from "./blobs.ts";
import type { Db } from "./connect.ts";
import type { NewAttempt, SubmissionKind } from "./schema.ts";
import { appendEvent, type EventSink } from "./events.ts";

export interface NewSubmission {
  userId: number;
  labId: string;
  labVersion: string;
  kind: SubmissionKind;
  archiveSha256?: string;
  image?: string;
}

export interface AcceptedSubmission {
  submissionId: string;
  attemptId: string;
  /** Queued attempts of the same learner and lab this one replaces. */
  superseded: string[];
}

/**
 * Commits the submission, its first attempt and the "queued" event in one transaction, before
 * anything is enqueued: an acknowledged submission is in Postgres even if Redis loses the job.
 * The learner's attempts for this lab still waiting in the queue are superseded.
 */
export async function acceptSubmission(db: Db, s: NewSubmission, notify: EventSink): Promise<AcceptedSubmission> {
  const { accepted, events } = await db.transaction().execute(async (tx) => {
    const submission = await tx
      .insertInto("submissions")
      .values({
        user_id: s.userId,
        lab_id: s.labId,
        kind: s.kind,
        archive_sha256: s.archiveSha256 ?? null,
        image: s.image ?? null,
      })
      .returning("id")
      .executeTakeFirstOrThrow();
    const attempt = await tx
      .insertInto("attempts")
      .values(queuedAttempt(submission.id, s.userId, s.labId, s.labVersion))
      .returning("id")
      .executeTakeFirstOrThrow();
    const superseded = await tx
      .updateTable("attempts")
      .set({
        status: "superseded",
        phase: "done",
        superseded_by: attempt.id,
        done_at: new Date(),
        reason: "a newer submission replaced it before grading started",
      })
      .where("user_id", "=", s.userId)
      .where("lab_id", "=", s.labId)
      .where("status", "=", "queued")
      .where("id", "!=", attempt.id)
      .returning("id")
      .execute();
    const events = [await appendEvent(tx, attempt.id, 0, "phase", { phase: "queued" })];
    for (const old of superseded) events.push(await appendEvent(tx, old.id, 0, "superseded", { by: attempt.id }));
    return {
      accepted: { submissionId: submission.id, attemptId: attempt.id, superseded: superseded.map((r) => r.id) },
      events,
    };
  });
  for (const e of events) await notify(e);
  return accepted;
}

/** A new attempt's row: queued, nothing about it decided yet. */
function queuedAttempt(submissionId: string, userId: number, labId: string, labVersion: string): NewAttempt {
  return {
    submission_id: submissionId,
    user_id: userId,
    lab_id: labId,
    lab_version: labVersion,
    status: "queued",
    phase: "queued",
    score: null,
    max_score: null,
    reason: null,
    findings: null,
    superseded_by: null,
    log_sha256: null,
  };
}

/** A new attempt of an existing submission (an instructor's regrade). */
export async function addAttempt(db: Db, submissionId: string, labVersion: string, notify: EventSink): Promise<string> {
  const { id, event } = await db.transaction().execute(async (tx) => {
    const submission = await tx
      .selectFrom("submissions")
      .selectAll()
      .where("id", "=", submissionId)
      .executeTakeFirstOrThrow();
    const attempt = await tx
      .insertInto("attempts")
      .values(queuedAttempt(submission.id, submission.user_id, submission.lab_id, labVersion))
      .returning("id")
      .executeTakeFirstOrThrow();
    return { id: attempt.id, event: await appendEvent(tx, attempt.id, 0, "phase", { phase: "queued" }) };
  });
  await notify(event);
  return id;
}

export async function getSubmission(db: Db, id: string) {
  return db.selectFrom("submissions").selectAll().where("id", "=", id).executeTakeFirst();
}

/** Attempts of a submission, newest first. */
export async function attemptsOfSubmission(db: Db, submissionId: string) {
  return db
    .selectFrom("attempts")
    .selectAll()
    .where("submission_id", "=", submissionId)
    .orderBy("queued_at", "desc")
    .execute();
}

/**
 * Deletes the archives of submissions that were superseded before `supersededBefore` and were
 * never graded: every attempt of theirs was superseded (a graded or not-gradable attempt keeps
 * its archive, for the record and for regrades). Each submission keeps its row and says when its
 * archive went; an archive still referred to (the same bytes submitted again) is kept. Runs in
 * batches; rows another sweep holds are skipped, so several workers may sweep at once.
 */
export async function deleteSupersededArchives(
  db: Db,
  supersededBefore: Date,
  batch = 200,
): Promise<{ submissions: number; blobs: number }> {
  return db.transaction().execute(async (tx) => {
    const candidates = await tx
      .selectFrom("submissions as s")
      .select(["s.id", "s.archive_sha256"])
      .where("s.archive_sha256", "is not", null)
      .where(({ exists, selectFrom }) =>
        exists(selectFrom("attempts as a").select("a.id").whereRef("a.submission_id", "=", "s.id")),
      )
      .where(({ exists, not, selectFrom }) =>
        not(
          exists(
            selectFrom("attempts as a")
              .select("a.id")
              .whereRef("a.submission_id", "=", "s.id")
              .where((eb) =>
                eb.or([
                  eb("a.status", "!=", "superseded"),
                  eb("a.done_at", "is", null),
                  eb("a.done_at", ">=", supersededBefore),
                ]),
              ),
          ),
        ),
      )
      .limit(batch)
      .forUpdate()
      .skipLocked()
      .execute();
    if (candidates.length === 0) return { submissions: 0, blobs: 0 };
    await tx
      .updateTable("submissions")
      .set({ archive_sha256: null, archive_deleted_at: new Date() })
      .where(
        "id",
        "in",
        candidates.map((c) => c.id),
      )
      .execute();
    const hashes = [...new Set(candidates.map((c) => c.archive_sha256!))];
    return { submissions: candidates.length, blobs: await deleteUnreferencedBlobs(tx, hashes, supersededBefore) };
  });
}
