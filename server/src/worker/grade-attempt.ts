import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { DelayedError, UnrecoverableError, type Job } from "bullmq";
import {
  GradeJobSchema,
  requiredPoints,
  type CheckResult,
  type GradeProgress,
  type GradeResult,
} from "../../../grader/src/contracts.ts";
import {
  enterPhase,
  finishAttempt,
  noteLearnerBusy,
  recordCheck,
  startRun,
  type FinalResult,
  type LearnerBusy,
} from "../db/attempts.ts";
import { capJson, capText, getBlob, putBlob } from "../db/blobs.ts";
import type { Db } from "../db/connect.ts";
import { appendEvent, type EventSink, type StoredEvent } from "../db/events.ts";
import { getSubmission } from "../db/submissions.ts";
import { ArchiveRejected, extractProject } from "../uploads/archive.ts";
import { checkProjectLayout } from "../uploads/project-layout.ts";
import { messageChain, PlatformFault } from "../../../grader/src/errors.ts";
import { gradeOperator, type GradeOptions } from "../../../grader/src/grading/grade.ts";
import { REFERENCE_OPERATOR_DIR } from "../../../grader/src/runner/reference.ts";
import type { OperatorSource } from "../../../grader/src/runner/source.ts";
import type { LoadedLab } from "./labs-sync.ts";
import type { WorkerMetrics } from "./metrics.ts";

/** Evidence and logs kept per check and per attempt. */
const EVIDENCE_CAP_BYTES = 256 * 1024;
const LOG_CAP_BYTES = 512 * 1024;

export interface GradeAttemptDeps {
  db: Db;
  publish: EventSink;
  labs: Map<string, LoadedLab>;
  /** Provider, toolchain and environments every grade shares (see GradeOptions). */
  grading: Pick<GradeOptions, "provider" | "controllerGen" | "goEnv" | "managerEnv"> &
    Partial<Pick<GradeOptions, "managerArgs" | "kubectl">>;
  /** Extra GradeOptions for learner builds (sandbox, limits). */
  gradeOptions?: Partial<GradeOptions>;
  /** Per-attempt workspaces live under it; each is removed when its run ends. */
  workRoot: string;
  /** The Go that builds submissions (go1.26.8): a stored project asking for a newer one, or borrowing code outside itself, is refused. */
  goVersion?: string;
  /**
   * At most `running` attempts of one learner are graded at once, across every worker; another
   * goes back to the queue for `retryMs` (still queued, no retry spent) and then asks again.
   */
  perLearner?: { running: number; retryMs: number };
  /** What grades a project; the real grade unless a test stands in for it. */
  gradeOperator?: typeof gradeOperator;
  /** Where the worker counts what only it sees (learners' builds); unset, nothing is counted. */
  metrics?: Pick<WorkerMetrics, "buildFinished">;
  log: (line: string) => void;
}

async function publishAll(publish: EventSink, events: (StoredEvent | undefined)[] | undefined) {
  for (const e of events ?? []) if (e) await publish(e);
}

async function sourceFor(
  deps: GradeAttemptDeps,
  submissionId: string,
  workDir: string,
): Promise<OperatorSource | { rejected: string }> {
  const submission = await getSubmission(deps.db, submissionId);
  if (!submission) throw new UnrecoverableError(`submission ${submissionId} is not in the gradebook`);
  if (submission.kind === "reference") return { kind: "project", dir: REFERENCE_OPERATOR_DIR, ours: true };
  if (submission.kind === "image")
    return {
      rejected:
        "An image alone carries neither the CRDs nor the generated role of its project, so it cannot be graded: submit the project archive; on kind labgrader builds its image as make docker-build would and deploys it as make deploy does.",
    };
  if (submission.archive_deleted_at)
    throw new UnrecoverableError(
      `the project archive of submission ${submissionId} was deleted on ${submission.archive_deleted_at.toISOString()}, some days after a newer submission replaced it; submit the project again to have it graded`,
    );
  const archive = submission.archive_sha256 && (await getBlob(deps.db, submission.archive_sha256));
  if (!archive) throw new UnrecoverableError(`the archive of submission ${submissionId} is missing from the gradebook`);
  await mkdir(workDir, { recursive: true, mode: 0o700 });
  const archivePath = join(workDir, "upload");
  await writeFile(archivePath, archive);
  try {
    const project = await extractProject(archivePath, join(workDir, "project"));
    // Checked again here, whatever the service accepted back then: the project must build on its own with our Go.
    if (deps.goVersion) await checkProjectLayout(project.dir, { goVersion: deps.goVersion });
    return { kind: "project", dir: project.dir };
  } catch (e) {
    if (e instanceof ArchiveRejected) return { rejected: e.message };
    throw e;
  }
}

/** A learner-fault result without grading: every check failed with the reason. */
function rejectedResult(loaded: LoadedLab, reason: string): FinalResult {
  const checks = loaded.lab.checks.map((c) => ({
    check: {
      id: c.id,
      task: c.task,
      title: c.title,
      required: c.severity === "required",
      points: c.points,
      status: "failed" as const,
      message: reason,
      hint: c.hint,
      decidedAtMs: 0,
    },
    evidenceSha256: null,
  }));
  return {
    status: "graded",
    score: 0,
    maxScore: requiredPoints(checks.map((c) => c.check)),
    findings: [reason],
    checks,
  };
}

/**
 * The queue's processor: one run of one attempt. Learner faults complete the job with a result;
 * platform faults throw so BullMQ retries; invalid jobs throw UnrecoverableError.
 */
export function createGradeAttempt(deps: GradeAttemptDeps) {
  const grade = deps.gradeOperator ?? gradeOperator;
  return async (
    job: Job,
    token?: string,
  ): Promise<{ attemptId: string; status: string; score?: number } | { attemptId: string; skipped: string }> => {
    const payload = GradeJobSchema.safeParse(job.data);
    if (!payload.success) throw new UnrecoverableError(`invalid grading job ${job.id}: ${payload.error.message}`);
    const { attemptId } = payload.data;
    const run = await startRun(deps.db, attemptId, deps.perLearner?.running ?? Number.POSITIVE_INFINITY);
    if (!run) return { attemptId, skipped: "the attempt is already finished or superseded" };
    if ("busy" in run) return waitForLearner(deps, job, token, attemptId, run);
    await publishAll(deps.publish, run.events);
    const loaded = deps.labs.get(run.attempt.lab_id);
    if (!loaded) throw new UnrecoverableError(`lab ${run.attempt.lab_id} is not loaded by this worker`);
    const workDir = join(deps.workRoot, attemptId, `run-${run.run}`);
    let writes = Promise.resolve();
    const enqueueWrite = (write: () => Promise<(StoredEvent | undefined)[] | undefined>) => {
      writes = writes
        .then(async () => publishAll(deps.publish, await write()))
        .catch((e: unknown) => deps.log(`attempt ${attemptId}: could not record progress: ${messageChain(e)}`));
    };
    const onProgress = (p: GradeProgress) => {
      if (p.type === "phase" && p.phase !== "building")
        enqueueWrite(async () => [
          await enterPhase(deps.db, attemptId, run.run, p.phase as Exclude<typeof p.phase, "building">),
        ]);
      if (p.type === "build") deps.metrics?.buildFinished(run.attempt.lab_id, p);
      if (p.type === "check")
        enqueueWrite(async () => [
          await recordCheck(deps.db, attemptId, run.run, p.result, await evidenceOf(p.result)),
        ]);
      if (p.type === "waiting") {
        deps.log(`attempt ${attemptId}: waiting for a ${p.slot} slot: ${p.ahead} ahead, ${p.held} of ${p.size} in use`);
        enqueueWrite(async () => [
          await appendEvent(deps.db, attemptId, run.run, "waiting", {
            slot: p.slot,
            ahead: p.ahead,
            held: p.held,
            size: p.size,
          }),
        ]);
      }
    };
    const evidenceOf = async (c: CheckResult) =>
      c.evidence ? putBlob(deps.db, capJson(c.evidence, EVIDENCE_CAP_BYTES)) : null;
    try {
      const source = await sourceFor(deps, run.attempt.submission_id, workDir);
      let final: FinalResult;
      if ("rejected" in source) {
        final = rejectedResult(loaded, source.rejected);
      } else {
        const result = await grade({
          ...deps.grading,
          managerArgs: deps.grading.managerArgs ?? [],
          ...deps.gradeOptions,
          lab: loaded.lab,
          source,
          operatorName: `attempt ${attemptId}`,
          workDir,
          attemptId: attemptId.slice(0, 8),
          onProgress,
        });
        await writes;
        if (result.status === "not_gradable") {
          const attemptsLeft = (job.opts.attempts ?? 1) - job.attemptsMade - 1;
          if (attemptsLeft > 0) {
            await publishAll(deps.publish, [
              await appendEvent(deps.db, attemptId, run.run, "retrying", { reason: result.reason ?? "not gradable" }),
            ]);
            throw new PlatformFault(result.reason ?? "the grade was not gradable");
          }
        }
        final = await finalOf(deps, result, await logOf(workDir));
      }
      await writes;
      const done = await finishAttempt(deps.db, attemptId, run.run, final);
      await publishAll(deps.publish, done);
      if (!done) return { attemptId, skipped: "another run finished this attempt" };
      return { attemptId, status: final.status, score: final.score };
    } catch (e) {
      if (e instanceof PlatformFault || e instanceof UnrecoverableError) throw e;
      throw new PlatformFault(`while grading attempt ${attemptId}: ${messageChain(e)}`, { cause: e });
    } finally {
      await writes;
      await rm(join(deps.workRoot, attemptId), { recursive: true, force: true }).catch(() => undefined);
    }
  };
}

/**
 * Puts the job back in the queue, delayed, without spending one of its retries: BullMQ moves it
 * to the delayed set under this worker's lock token, and DelayedError tells the worker that the
 * job is neither completed nor failed.
 */
async function waitForLearner(
  deps: GradeAttemptDeps,
  job: Job,
  token: string | undefined,
  attemptId: string,
  busy: LearnerBusy,
): Promise<never> {
  if (!token)
    throw new Error(
      `attempt ${attemptId}: its learner is at the limit of running attempts, and without the job's lock token it cannot be postponed`,
    );
  await publishAll(deps.publish, [await noteLearnerBusy(deps.db, attemptId, busy)]);
  await job.moveToDelayed(Date.now() + (deps.perLearner?.retryMs ?? 0), token);
  throw new DelayedError(
    `attempt ${attemptId} waits: its learner has ${busy.running} of ${busy.limit} attempts running`,
  );
}

async function logOf(workDir: string): Promise<string | undefined> {
  return readFile(join(workDir, "manager.log"), "utf8").catch(() => undefined);
}

async function finalOf(deps: GradeAttemptDeps, result: GradeResult, log: string | undefined): Promise<FinalResult> {
  const checks = await Promise.all(
    result.checks.map(async (check) => ({
      check,
      evidenceSha256: check.evidence ? await putBlob(deps.db, capJson(check.evidence, EVIDENCE_CAP_BYTES)) : null,
    })),
  );
  return {
    status: result.status,
    score: result.score,
    maxScore: result.maxScore,
    ...(result.reason ? { reason: result.reason } : {}),
    findings: result.findings,
    checks,
    ...(log ? { logSha256: await putBlob(deps.db, capText(log, LOG_CAP_BYTES)) } : {}),
  };
}
