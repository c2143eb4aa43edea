import { Router, type Request } from "express";
import type { Queue } from "bullmq";
import { canRead, currentUser, requireRole } from "../../auth.ts";
import { checkResultsOf, getAttempt } from "../../db/attempts.ts";
import { getBlob } from "../../db/blobs.ts";
import type { Db } from "../../db/connect.ts";
import type { EventSink } from "../../db/events.ts";
import type { Attempt } from "../../db/schema.ts";
import { addAttempt } from "../../db/submissions.ts";
import { notFound } from "../../errors.ts";
import type { StreamGate } from "../../limits/streams.ts";
import type { LiveHub } from "../../live/hub.ts";
import { requireLab } from "../labs/labs.ts";
import { enqueueAttempt } from "../submissions/submissions.ts";
import { attemptSummary, attemptView } from "./attempt-view.ts";
import { streamAttemptEvents } from "../../live/events-stream.ts";
import { AttemptIdParamsSchema, AttemptListQuerySchema, EvidenceParamsSchema } from "./attempts.schema.ts";

export interface AttemptsDeps {
  db: Db;
  queue: Queue;
  live: LiveHub;
  /** Open event streams per user. */
  streams: StreamGate;
  notify: EventSink;
  log: (line: string) => void;
}

export function attemptsRouter(deps: AttemptsDeps): Router {
  const router = Router();
  const { db } = deps;

  /** The attempt if this user may read it; otherwise 404, so others' attempts are not even confirmed to exist. */
  const readableAttempt = async (req: Request): Promise<Attempt> => {
    const user = currentUser(req);
    const params = AttemptIdParamsSchema.safeParse(req.params);
    const attempt = params.success ? await getAttempt(db, params.data.id) : undefined;
    if (!attempt || !canRead(user, attempt.user_id)) throw notFound("attempt");
    return attempt;
  };

  router.get("/attempts/:id", async (req, res) => {
    const attempt = await readableAttempt(req);
    res.json(attemptView(attempt, await checkResultsOf(db, attempt.id)));
  });

  router.get("/attempts/:id/events", async (req, res) => {
    const attempt = await readableAttempt(req);
    await streamAttemptEvents(req, res, deps, attempt.id, currentUser(req).id);
  });

  router.get("/attempts/:id/checks/:checkId/evidence", async (req, res) => {
    const attempt = await readableAttempt(req);
    const params = EvidenceParamsSchema.safeParse(req.params);
    const check = params.success ? (await checkResultsOf(db, attempt.id)).find((c) => c.check_id === params.data.checkId) : undefined;
    const blob = check?.evidence_sha256 ? await getBlob(db, check.evidence_sha256) : undefined;
    if (!blob) throw notFound("evidence");
    res.type("application/json").send(blob);
  });

  router.get("/attempts/:id/log", async (req, res) => {
    const attempt = await readableAttempt(req);
    const blob = attempt.log_sha256 ? await getBlob(db, attempt.log_sha256) : undefined;
    if (!blob) throw notFound("log");
    res.type("text/plain").send(blob);
  });

  router.post("/attempts/:id/regrade", async (req, res) => {
    requireRole(req, "instructor");
    const attempt = await readableAttempt(req);
    const lab = await requireLab(db, { labId: attempt.lab_id });
    const attemptId = await addAttempt(db, attempt.submission_id, lab.versionHash, deps.notify);
    await enqueueAttempt(deps, attemptId);
    res.status(202).location(`/api/v1/attempts/${attemptId}`).json({ attemptId });
  });

  router.get("/labs/:labId/attempts", async (req, res) => {
    const user = currentUser(req);
    const lab = await requireLab(db, req.params);
    const query = AttemptListQuerySchema.parse(req.query);
    const who = user.role === "instructor" ? query.user : user.id;
    let select = db.selectFrom("attempts").selectAll().where("lab_id", "=", lab.id).orderBy("queued_at", "desc").limit(500);
    if (who !== undefined) select = select.where("user_id", "=", who);
    res.json({ attempts: (await select.execute()).map(attemptSummary) });
  });

  router.post("/labs/:labId/regrade", async (req, res) => {
    requireRole(req, "instructor");
    const lab = await requireLab(db, req.params);
    // Each submission's latest finished attempt is graded again with the lab as it is now.
    const latest = await db
      .selectFrom("attempts")
      .select(["submission_id"])
      .where("lab_id", "=", lab.id)
      .where("status", "in", ["graded", "not_gradable"])
      .groupBy("submission_id")
      .execute();
    const attemptIds: string[] = [];
    for (const { submission_id } of latest) {
      const attemptId = await addAttempt(db, submission_id, lab.versionHash, deps.notify);
      await enqueueAttempt(deps, attemptId);
      attemptIds.push(attemptId);
    }
    res.status(202).json({ attemptIds });
  });

  return router;
}
