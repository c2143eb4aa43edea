import { rm } from "node:fs/promises";
import { Router, type Request, type Response } from "express";
import { listAttempts } from "../db/attempts.ts";
import { putBlob } from "../db/blobs.ts";
import { getLabRecord, listLabRecords, type LabRecord } from "../db/labs.ts";
import type { Attempt, User } from "../db/schema.ts";
import type { NewSubmission } from "../db/submissions.ts";
import { getUser } from "../db/users.ts";
import { HttpError, TooManyRequests } from "../errors.ts";
import { streamAttemptEvents } from "../live/events-stream.ts";
import { attemptLog, readableAttempt } from "../services/attempts.ts";
import { requireLab } from "../services/labs.ts";
import { ImageReferenceSchema, submit } from "../services/submissions.ts";
import { inspectArchive, receiveArchive } from "../uploads/receive.ts";
import type { AppDeps } from "../app.ts";
import { attemptPage } from "./attempt-page.ts";
import { STATUS_LABELS, scoreText, when, withCode } from "./format.ts";
import type { Renderer } from "./render.ts";
import { pageUser } from "./session.ts";

type LearnerDeps = Pick<
  AppDeps,
  "db" | "queue" | "live" | "notify" | "limits" | "uploadDir" | "maxUploadBytes" | "goVersion" | "acceptsImages" | "log"
>;

/** The upload form's route: the one page POST that checks its CSRF token itself (see session.ts). */
export const UPLOAD_PAGE_PATH = "/labs/:labId/submissions";

const attemptRow = (a: Attempt, labs: Map<string, LabRecord>) => ({
  id: a.id,
  lab: labs.get(a.lab_id)?.title ?? a.lab_id,
  status: a.status,
  statusLabel: STATUS_LABELS[a.status],
  score: scoreText(a.score, a.max_score),
  queuedAt: when(a.queued_at),
});

const myAttempts = (deps: LearnerDeps, user: User, labId: string | undefined, limit: number) =>
  listAttempts(deps.db, { userId: user.id, labId }, limit);

/** The pages a learner works with: labs, a lab and its upload form, attempts live and finished. */
export function learnerPages(deps: LearnerDeps, view: Renderer, csrfValid: (req: Request) => boolean): Router {
  const router = Router();
  const { db } = deps;
  const upload = { uploadDir: deps.uploadDir, maxUploadBytes: deps.maxUploadBytes, goVersion: deps.goVersion };
  const receive = receiveArchive(upload);

  router.get("/labs", async (req, res) => {
    const user = pageUser(req);
    const [labs, attempts] = await Promise.all([listLabRecords(db), myAttempts(deps, user, undefined, 1000)]);
    const model = labs.map((lab) => {
      const mine = attempts.filter((a) => a.lab_id === lab.id);
      const graded = mine.filter((a) => a.status === "graded" && a.score !== null);
      const best = graded.reduce<number | null>((m, a) => Math.max(m ?? 0, a.score!), null);
      const last = mine[0];
      return {
        id: lab.id,
        title: lab.title,
        taskCount: lab.summary.tasks.length,
        maxScore: lab.summary.maxScore,
        best: best === null ? undefined : `${best}/${lab.summary.maxScore}`,
        last: last && attemptRow(last, new Map([[lab.id, lab]])),
      };
    });
    view.send(req, res, "learner/labs", { title: "Labs", section: "labs" }, { labs: model });
  });

  const sendLabPage = async (req: Request, res: Response, lab: LabRecord, error?: string, status = 200) => {
    const user = pageUser(req);
    const attempts = await myAttempts(deps, user, lab.id, 50);
    const tasks = lab.summary.tasks.map((t) => ({
      ...t,
      checks: lab.summary.checks
        .filter((c) => c.task === t.id)
        .map((c) => ({ ...c, title: withCode(c.title), advisory: !c.required })),
    }));
    const model = {
      lab: { id: lab.id, title: lab.title, maxScore: lab.summary.maxScore },
      tasks,
      attempts: attempts.map((a) => attemptRow(a, new Map([[lab.id, lab]]))),
      acceptsImages: deps.acceptsImages,
      maxUploadMb: Math.floor(deps.maxUploadBytes / 1024 / 1024),
      error,
    };
    view.send(req, res, "learner/lab", { title: lab.title, section: "labs" }, model, status);
  };

  router.get("/labs/:labId", async (req, res) => {
    pageUser(req);
    await sendLabPage(req, res, await requireLab(db, req.params.labId));
  });

  /** Counts a submission against the account's limit; over it, the lab page says when the next one fits. */
  const admitted = async (req: Request, res: Response, lab: LabRecord, user: User): Promise<boolean> => {
    try {
      await deps.limits.submissions.admit(user.id);
      return true;
    } catch (e) {
      if (!(e instanceof TooManyRequests)) throw e;
      res.set("retry-after", String(e.retryAfterSeconds));
      await sendLabPage(req, res, lab, e.message, e.status);
      return false;
    }
  };

  /** Accepts the submission as the API does, then shows its attempt. */
  const submitAndShow = async (res: Response, submission: NewSubmission) => {
    const accepted = await submit(deps, submission);
    res.redirect(303, `/attempts/${accepted.attemptId}`);
  };

  router.post(UPLOAD_PAGE_PATH, async (req, res) => {
    const user = pageUser(req);
    const lab = await requireLab(db, req.params.labId);
    if (!(await admitted(req, res, lab, user))) return;
    let file: Express.Multer.File;
    try {
      file = await receive(req, res);
    } catch (e) {
      if (e instanceof HttpError) return sendLabPage(req, res, lab, e.message, e.status);
      throw e;
    }
    // The form's CSRF token is one of its multipart fields: it can only be checked now.
    if (!csrfValid(req)) {
      await rm(file.path, { force: true });
      throw new HttpError(403, "This form has expired. Go back, reload the page and try again.");
    }
    let archive: Buffer;
    try {
      archive = await inspectArchive(file.path, upload);
    } catch (e) {
      if (e instanceof HttpError)
        return sendLabPage(req, res, lab, `Your upload was not accepted: ${e.message}`, e.status);
      throw e;
    }
    await submitAndShow(res, {
      userId: user.id,
      labId: lab.id,
      labVersion: lab.versionHash,
      kind: "archive",
      archiveSha256: await putBlob(db, archive),
    });
  });

  router.post("/labs/:labId/image", async (req, res) => {
    const user = pageUser(req);
    const lab = await requireLab(db, req.params.labId);
    if (!deps.acceptsImages)
      return sendLabPage(
        req,
        res,
        lab,
        "Image submissions need the kind provider; upload your project archive instead.",
        422,
      );
    if (!(await admitted(req, res, lab, user))) return;
    const image = ImageReferenceSchema.safeParse(String((req.body as { image?: unknown }).image ?? "").trim());
    if (!image.success)
      return sendLabPage(
        req,
        res,
        lab,
        "Give an image reference like registry.example.com/me/postgres-operator:v1.",
        400,
      );
    await submitAndShow(res, {
      userId: user.id,
      labId: lab.id,
      labVersion: lab.versionHash,
      kind: "image",
      image: image.data,
    });
  });

  router.get("/attempts", async (req, res) => {
    const user = pageUser(req);
    const [labs, attempts] = await Promise.all([listLabRecords(db), myAttempts(deps, user, undefined, 200)]);
    const byId = new Map(labs.map((l) => [l.id, l]));
    view.send(
      req,
      res,
      "learner/attempts",
      { title: "My attempts", section: "attempts" },
      { attempts: attempts.map((a) => attemptRow(a, byId)) },
    );
  });

  router.get("/attempts/:id", async (req, res) => {
    const user = pageUser(req);
    const attempt = await readableAttempt(db, user, req.params.id);
    const model = await attemptPage(db, attempt, await getLabRecord(db, attempt.lab_id));
    const ownerAccount = attempt.user_id === user.id ? undefined : await getUser(db, attempt.user_id);
    const owner = ownerAccount && { id: ownerAccount.id, name: ownerAccount.name };
    const title = `Attempt on ${model.attempt.labTitle}`;
    view.send(
      req,
      res,
      "learner/attempt",
      { title, section: owner ? "dashboard" : "attempts" },
      { ...model, owner, canRegrade: user.role === "instructor" },
    );
  });

  router.get("/attempts/:id/log", async (req, res) => {
    const log = await attemptLog(db, pageUser(req), req.params.id);
    res.type("text/plain").send(log);
  });

  router.get("/attempts/:id/events", async (req, res) => {
    const user = pageUser(req);
    const attempt = await readableAttempt(db, user, req.params.id);
    await streamAttemptEvents(req, res, { db, live: deps.live, streams: deps.limits.streams }, attempt.id, user.id);
  });

  return router;
}
