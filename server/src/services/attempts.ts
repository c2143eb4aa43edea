import { z } from "zod";
import { canRead } from "../auth.ts";
import { checkResultsOf, finishedSubmissionsOfLab, getAttempt, listAttempts } from "../db/attempts.ts";
import { getBlob } from "../db/blobs.ts";
import type { Db } from "../db/connect.ts";
import type { LabRecord } from "../db/labs.ts";
import type { Attempt, User } from "../db/schema.ts";
import { addAttempt } from "../db/submissions.ts";
import { notFound } from "../errors.ts";
import { requireLab } from "./labs.ts";
import { enqueueAttempt, type GradeQueueDeps } from "./submissions.ts";

const AttemptIdSchema = z.uuid();
const CheckIdSchema = z.string().regex(/^[a-z0-9-]{1,100}$/);

/** The attempt if this user may read it; otherwise 404, so others' attempts are not even confirmed to exist. */
export async function readableAttempt(db: Db, user: User, attemptId: unknown): Promise<Attempt> {
  const id = AttemptIdSchema.safeParse(attemptId);
  const attempt = id.success ? await getAttempt(db, id.data) : undefined;
  if (!attempt || !canRead(user, attempt.user_id)) throw notFound("attempt");
  return attempt;
}

/** The operator's log of a readable attempt (its end, as kept). */
export async function attemptLog(db: Db, user: User, attemptId: unknown): Promise<Buffer> {
  const attempt = await readableAttempt(db, user, attemptId);
  const blob = attempt.log_sha256 ? await getBlob(db, attempt.log_sha256) : undefined;
  if (!blob) throw notFound("log");
  return blob;
}

/** The evidence (JSON) of one check of a readable attempt. */
export async function checkEvidence(db: Db, user: User, attemptId: unknown, checkId: unknown): Promise<Buffer> {
  const attempt = await readableAttempt(db, user, attemptId);
  const id = CheckIdSchema.safeParse(checkId);
  const check = id.success ? (await checkResultsOf(db, attempt.id)).find((c) => c.check_id === id.data) : undefined;
  const blob = check?.evidence_sha256 ? await getBlob(db, check.evidence_sha256) : undefined;
  if (!blob) throw notFound("evidence");
  return blob;
}

/** A lab's attempts, newest first: a learner's own; an instructor's choice of learner, or everyone's. */
export async function labAttempts(
  db: Db,
  user: User,
  lab: LabRecord,
  requestedUserId: number | undefined,
): Promise<Attempt[]> {
  const userId = user.role === "instructor" ? requestedUserId : user.id;
  return listAttempts(db, { labId: lab.id, userId }, 500);
}

/** Grades the attempt's submission again with its lab as it is now; returns the new attempt's id. */
export async function regradeAttempt(deps: GradeQueueDeps, user: User, attemptId: unknown): Promise<string> {
  const attempt = await readableAttempt(deps.db, user, attemptId);
  const lab = await requireLab(deps.db, attempt.lab_id);
  const newAttemptId = await addAttempt(deps.db, attempt.submission_id, lab.versionHash, deps.notify);
  await enqueueAttempt(deps, newAttemptId);
  return newAttemptId;
}

/** Grades every submission of the lab that has a finished attempt again, with the lab as it is now; returns the new attempts' ids. */
export async function regradeLab(deps: GradeQueueDeps, lab: LabRecord): Promise<string[]> {
  const attemptIds: string[] = [];
  for (const submissionId of await finishedSubmissionsOfLab(deps.db, lab.id)) {
    const attemptId = await addAttempt(deps.db, submissionId, lab.versionHash, deps.notify);
    await enqueueAttempt(deps, attemptId);
    attemptIds.push(attemptId);
  }
  return attemptIds;
}
