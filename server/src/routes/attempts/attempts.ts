import { Router } from "express";
import { currentUser, requireRole } from "../../auth.ts";
import { checkResultsOf } from "../../db/attempts.ts";
import type { StreamGate } from "../../limits/streams.ts";
import { streamAttemptEvents } from "../../live/events-stream.ts";
import type { LiveHub } from "../../live/hub.ts";
import {
  attemptLog,
  checkEvidence,
  labAttempts,
  readableAttempt,
  regradeAttempt,
  regradeLab,
} from "../../services/attempts.ts";
import { requireLab } from "../../services/labs.ts";
import type { GradeQueueDeps } from "../../services/submissions.ts";
import { attemptSummary, attemptView } from "./attempt-view.ts";
import { AttemptListQuerySchema } from "./attempts.schema.ts";

export interface AttemptsDeps extends GradeQueueDeps {
  live: LiveHub;
  /** Open event streams per user. */
  streams: StreamGate;
}

export function attemptsRouter(deps: AttemptsDeps): Router {
  const router = Router();
  const { db } = deps;

  router.get("/attempts/:id", async (req, res) => {
    const attempt = await readableAttempt(db, currentUser(req), req.params.id);
    res.json(attemptView(attempt, await checkResultsOf(db, attempt.id)));
  });

  router.get("/attempts/:id/events", async (req, res) => {
    const user = currentUser(req);
    const attempt = await readableAttempt(db, user, req.params.id);
    await streamAttemptEvents(req, res, deps, attempt.id, user.id);
  });

  router.get("/attempts/:id/checks/:checkId/evidence", async (req, res) => {
    const evidence = await checkEvidence(db, currentUser(req), req.params.id, req.params.checkId);
    res.type("application/json").send(evidence);
  });

  router.get("/attempts/:id/log", async (req, res) => {
    // Awaited before res.type(): a 404 must not go out as text/plain.
    const log = await attemptLog(db, currentUser(req), req.params.id);
    res.type("text/plain").send(log);
  });

  router.post("/attempts/:id/regrade", async (req, res) => {
    const user = requireRole(req, "instructor");
    const attemptId = await regradeAttempt(deps, user, req.params.id);
    res.status(202).location(`/api/v1/attempts/${attemptId}`).json({ attemptId });
  });

  router.get("/labs/:labId/attempts", async (req, res) => {
    const user = currentUser(req);
    const lab = await requireLab(db, req.params.labId);
    const query = AttemptListQuerySchema.parse(req.query);
    res.json({ attempts: (await labAttempts(db, user, lab, query.user)).map(attemptSummary) });
  });

  router.post("/labs/:labId/regrade", async (req, res) => {
    requireRole(req, "instructor");
    const lab = await requireLab(db, req.params.labId);
    const attemptIds = await regradeLab(deps, lab);
    res.status(202).json({ attemptIds });
  });

  return router;
}
