import { Router } from "express";
import type { Queue } from "bullmq";
import { GRADE_JOB, GRADE_JOB_OPTIONS, gradeJobId } from "../../../../grader/src/contracts.ts";
import { canRead, currentUser, requireRole } from "../../auth.ts";
import { putBlob } from "../../db/blobs.ts";
import type { Db } from "../../db/connect.ts";
import type { EventSink } from "../../db/events.ts";
import { acceptSubmission, attemptsOfSubmission, getSubmission, type NewSubmission } from "../../db/submissions.ts";
import { HttpError, notFound } from "../../errors.ts";
import type { SubmissionGate } from "../../limits/submissions.ts";
import { attemptSummary } from "../attempts/attempt-view.ts";
import { requireLab } from "../labs/labs.ts";
import { JsonSubmissionSchema, SubmissionIdParamsSchema } from "./submissions.schema.ts";
import { inspectArchive, receiveArchive, type UploadOptions } from "../../uploads/receive.ts";

export interface SubmissionsDeps {
  db: Db;
  queue: Queue;
  notify: EventSink;
  /** Submissions per account and window. */
  submissions: SubmissionGate;
  upload: UploadOptions;
  /** Image submissions need workers that grade on kind. */
  acceptsImages: boolean;
  log: (line: string) => void;
}

/** Enqueues after the commit; if Redis is down the sweeper enqueues it later, so the 202 stands. */
export async function enqueueAttempt(deps: Pick<SubmissionsDeps, "queue" | "log">, attemptId: string): Promise<void> {
  try {
    await deps.queue.add(GRADE_JOB, { attemptId }, { ...GRADE_JOB_OPTIONS, jobId: gradeJobId(attemptId) });
  } catch (e) {
    deps.log(`attempt ${attemptId} accepted but not enqueued (the sweeper will): ${String(e)}`);
  }
}

export function submissionsRouter(deps: SubmissionsDeps): Router {
  const router = Router();
  const receive = receiveArchive(deps.upload);

  router.post("/labs/:labId/submissions", async (req, res) => {
    const user = currentUser(req);
    const lab = await requireLab(deps.db, req.params);
    await deps.submissions.admit(user.id);
    const base = { userId: user.id, labId: lab.id, labVersion: lab.versionHash };
    let submission: NewSubmission;
    if (req.is("multipart/form-data")) {
      const file = await receive(req, res);
      const archive = await inspectArchive(file.path, deps.upload);
      submission = { ...base, kind: "archive", archiveSha256: await putBlob(deps.db, archive) };
    } else if (req.is("application/json")) {
      const body = JsonSubmissionSchema.safeParse(req.body);
      if (!body.success) throw new HttpError(400, 'send {"reference": true}, {"image": "…"} or a multipart upload', body.error.issues);
      if ("reference" in body.data) {
        requireRole(req, "instructor", "ci");
        submission = { ...base, kind: "reference" };
      } else {
        if (!deps.acceptsImages) throw new HttpError(422, "image submissions need the kind provider; upload your project archive instead");
        submission = { ...base, kind: "image", image: body.data.image };
      }
    } else {
      throw new HttpError(415, 'send multipart/form-data with the field "project", or application/json');
    }
    const accepted = await acceptSubmission(deps.db, submission, deps.notify);
    for (const old of accepted.superseded) await deps.queue.remove(gradeJobId(old)).catch(() => undefined);
    await enqueueAttempt(deps, accepted.attemptId);
    res.status(202).location(`/api/v1/attempts/${accepted.attemptId}`).json(accepted);
  });

  router.get("/submissions/:id", async (req, res) => {
    const user = currentUser(req);
    const params = SubmissionIdParamsSchema.safeParse(req.params);
    const submission = params.success ? await getSubmission(deps.db, params.data.id) : undefined;
    if (!submission || !canRead(user, submission.user_id)) throw notFound("submission");
    const attempts = await attemptsOfSubmission(deps.db, submission.id);
    res.json({
      id: submission.id,
      lab: submission.lab_id,
      userId: submission.user_id,
      kind: submission.kind,
      ...(submission.image ? { image: submission.image } : {}),
      ...(submission.archive_deleted_at ? { archiveDeletedAt: submission.archive_deleted_at.toISOString() } : {}),
      createdAt: submission.created_at.toISOString(),
      attempts: attempts.map(attemptSummary),
    });
  });

  return router;
}
