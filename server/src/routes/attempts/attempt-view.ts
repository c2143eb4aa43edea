import { PHASES, phaseStartedAt } from "../../db/attempts.ts";
import type { Attempt, CheckResultRow } from "../../db/schema.ts";
import type { AttemptView } from "./attempts.schema.ts";

const phaseTimes = (a: Attempt) =>
  Object.fromEntries(
    PHASES.flatMap((p) => {
      const at = phaseStartedAt(a, p);
      return at ? [[p, at.toISOString()]] : [];
    }),
  );

/** An attempt without its checks, for lists. */
export const attemptSummary = (a: Attempt) => ({
  id: a.id,
  lab: a.lab_id,
  status: a.status,
  phase: a.phase,
  score: a.score,
  maxScore: a.max_score,
  queuedAt: a.queued_at.toISOString(),
  ...(a.done_at ? { doneAt: a.done_at.toISOString() } : {}),
});

export function attemptView(a: Attempt, checks: CheckResultRow[]): AttemptView {
  return {
    id: a.id,
    submissionId: a.submission_id,
    lab: a.lab_id,
    userId: a.user_id,
    status: a.status,
    phase: a.phase,
    score: a.score,
    maxScore: a.max_score,
    ...(a.reason ? { reason: a.reason } : {}),
    findings: a.findings ?? [],
    runs: a.runs,
    phases: phaseTimes(a),
    checks: checks.map((c) => ({
      id: c.check_id,
      task: c.task,
      title: c.title,
      required: c.required,
      points: c.points,
      status: c.status,
      message: c.message,
      hint: c.hint,
      ...(c.expected !== null ? { expected: c.expected } : {}),
      ...(c.actual !== null ? { actual: c.actual } : {}),
      ...(c.scenario !== null ? { scenario: c.scenario } : {}),
      decidedAtMs: c.decided_at_ms,
      ...(c.evidence_sha256 ? { evidenceUrl: `/api/v1/attempts/${a.id}/checks/${c.check_id}/evidence` } : {}),
    })),
    ...(a.log_sha256 ? { logUrl: `/api/v1/attempts/${a.id}/log` } : {}),
  };
}
