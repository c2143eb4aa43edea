import { Router } from "express";
import { currentUser, requireRole } from "../../auth.ts";
import { putBlob } from "../../db/blobs.ts";
import type { NewSubmission } from "../../db/submissions.ts";
import { HttpError } from "../../errors.ts";
import type { SubmissionGate } from "../../limits/submissions.ts";
import { requireLab } from "../../services/labs.ts";
import { readableSubmission, submit, type GradeQueueDeps } from "../../services/submissions.ts";
import { inspectArchive, receiveArchive, type UploadOptions } from "../../uploads/receive.ts";
import { attemptSummary } from "../attempts/attempt-view.ts";
import { JsonSubmissionSchema } from "./submissions.schema.ts";

export interface SubmissionsDeps extends GradeQueueDeps {
  /** Submissions per account and window. */
  submissions: SubmissionGate;
  upload: UploadOptions;
  /** Image submissions need workers that grade on kind. */
  acceptsImages: boolean;
}

export function submissionsRouter(deps: SubmissionsDeps): Router {
  const router = Router();
  const receive = receiveArchive(deps.upload);

  router.post("/labs/:labId/submissions", async (req, res) => {
    const user = currentUser(req);
    const lab = await requireLab(deps.db, req.params.labId);
    await deps.submissions.admit(user.id);
    const base = { userId: user.id, labId: lab.id, labVersion: lab.versionHash };
    let submission: NewSubmission;
    if (req.is("multipart/form-data")) {
      const file = await receive(req, res);
      const archive = await inspectArchive(file.path, deps.upload);
      submission = { ...base, kind: "archive", archiveSha256: await putBlob(deps.db, archive) };
    } else if (req.is("application/json")) {
      const body = JsonSubmissionSchema.safeParse(req.body);
      if (!body.success)
        throw new HttpError(400, 'send {"reference": true}, {"image": "…"} or a multipart upload', body.error.issues);
      if ("reference" in body.data) {
        requireRole(req, "instructor", "ci");
        submission = { ...base, kind: "reference" };
      } else {
        if (!deps.acceptsImages)
          throw new HttpError(422, "image submissions need the kind provider; upload your project archive instead");
        submission = { ...base, kind: "image", image: body.data.image };
      }
    } else {
      throw new HttpError(415, 'send multipart/form-data with the field "project", or application/json');
    }
    const accepted = await submit(deps, submission);
    res.status(202).location(`/api/v1/attempts/${accepted.attemptId}`).json(accepted);
  });

  router.get("/submissions/:id", async (req, res) => {
    const { submission, attempts } = await readableSubmission(deps.db, currentUser(req), req.params.id);
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
