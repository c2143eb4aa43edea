import { stringify } from "yaml";
import { CheckEvidenceSchema, type CheckEvidence } from "../../../grader/src/contracts.ts";
import { checkResultsOf, PHASES, phaseStartedAt } from "../db/attempts.ts";
import { getBlob } from "../db/blobs.ts";
import type { Db } from "../db/connect.ts";
import type { LabRecord } from "../db/labs.ts";
import type { Attempt, CheckResultRow } from "../db/schema.ts";
import { CHECK_LABELS, PHASE_LABELS, STATUS_LABELS, scoreText, seconds, when, withCode } from "./format.ts";

/** The labels app.js writes as the grade goes on: it runs in the browser and cannot import format.ts. */
const LIVE_LABELS = JSON.stringify({ checks: CHECK_LABELS, running: STATUS_LABELS.running });
/** The end of the operator's log before a decision is what explains it. */
const LOG_LINES = 40;

const isFinal = (a: Attempt) => a.status === "graded" || a.status === "not_gradable" || a.status === "superseded";

function phaseList(a: Attempt) {
  const current = PHASES.indexOf(a.phase);
  return PHASES.filter((p) => p !== "done").map((p, i) => ({
    id: p,
    label: PHASE_LABELS[p],
    state: i < current || a.phase === "done" ? "done" : i === current ? "current" : "pending",
    at: when(phaseStartedAt(a, p)),
  }));
}

/**
 * The trace as a grid: one column per object, one row per change, each cell the object's state
 * at that moment (carried forward, the changed cell marked), so a learner reads which phase the
 * Backup and the Database were in, when.
 */
export function timelineGrid(timeline: CheckEvidence["timeline"]) {
  const columns = [...new Set(timeline.map((t) => `${t.kind}/${t.name}`))];
  const state = new Map<string, string>();
  const rows = timeline.map((t) => {
    const key = `${t.kind}/${t.name}`;
    state.set(key, t.type === "DELETED" ? "deleted" : t.summary);
    return {
      at: seconds(t.at),
      cells: columns.map((c) => ({ text: state.get(c) ?? "", changed: c === key, type: c === key ? t.type : "" })),
    };
  });
  return { columns, rows };
}

function evidenceModel(evidence: CheckEvidence) {
  return {
    objects: evidence.objects.map((o) => {
      // managedFields is the API server's bookkeeping: pages of YAML that explain nothing to a learner.
      const { managedFields: _managedFields, ...metadata } = (o.metadata ?? {}) as {
        name?: string;
        managedFields?: unknown;
      };
      return {
        title: `${String(o.kind ?? "object")} ${metadata.name ?? ""}`.trim(),
        yaml: stringify({ ...o, metadata }, { lineWidth: 0 }),
      };
    }),
    timeline: evidence.timeline.length > 0 ? timelineGrid(evidence.timeline) : undefined,
    events: evidence.events.map((e) => ({ ...e, at: seconds(e.at) })),
    logs: evidence.logs.slice(-LOG_LINES).map((l) => ({ at: seconds(l.at), text: l.text })),
    logsCut: evidence.logs.length > LOG_LINES ? evidence.logs.length - LOG_LINES : 0,
  };
}

async function loadEvidence(db: Db, row: CheckResultRow) {
  const blob = row.evidence_sha256 ? await getBlob(db, row.evidence_sha256) : undefined;
  if (!blob) return { missing: "No evidence was kept for this check." };
  const parsed = CheckEvidenceSchema.safeParse(JSON.parse(blob.toString("utf8")));
  if (!parsed.success) return { missing: "The evidence was too large to keep; the message above says what was seen." };
  return evidenceModel(parsed.data);
}

/** Everything the attempt page shows: progress while it runs, the verdicts and their evidence once done. */
export async function attemptPage(db: Db, attempt: Attempt, lab: LabRecord | undefined) {
  const rows = await checkResultsOf(db, attempt.id);
  const byId = new Map(rows.map((r) => [r.check_id, r]));
  const labChecks =
    lab?.summary.checks ??
    rows.map((r) => ({ id: r.check_id, task: r.task, title: r.title, points: r.points, required: r.required }));
  const taskList = lab?.summary.tasks ?? [...new Set(rows.map((r) => r.task))].map((id) => ({ id, title: "" }));
  const tasks = taskList.map((t) => ({
    id: t.id,
    title: t.title,
    checks: labChecks
      .filter((c) => c.task === t.id)
      .map((c) => {
        const status = byId.get(c.id)?.status ?? "pending";
        return {
          id: c.id,
          title: withCode(c.title),
          points: c.points,
          advisory: !c.required,
          status,
          statusLabel: CHECK_LABELS[status],
          message: byId.get(c.id)?.message ?? "",
        };
      }),
  }));
  const final = isFinal(attempt);
  const failedRows = final ? rows.filter((r) => r.status !== "passed") : [];
  const failed = await Promise.all(
    failedRows.map(async (r, i) => ({
      open: i === 0,
      id: r.check_id,
      title: withCode(r.title),
      task: r.task,
      status: r.status,
      statusLabel: CHECK_LABELS[r.status],
      advisory: !r.required,
      message: r.message,
      expected: r.expected,
      actual: r.actual,
      scenario: r.scenario,
      hint: withCode(r.hint),
      decidedAt: seconds(r.decided_at_ms),
      evidence: await loadEvidence(db, r),
    })),
  );
  return {
    attempt: {
      id: attempt.id,
      lab: attempt.lab_id,
      labTitle: lab?.title ?? attempt.lab_id,
      status: attempt.status,
      statusLabel: STATUS_LABELS[attempt.status],
      final,
      live: !final,
      graded: attempt.status === "graded",
      score: scoreText(attempt.score, attempt.max_score),
      fullMarks: attempt.status === "graded" && attempt.score !== null && attempt.score === attempt.max_score,
      reason: attempt.reason,
      findings: attempt.findings ?? [],
      queuedAt: when(attempt.queued_at),
      runs: attempt.runs,
      supersededBy: attempt.superseded_by,
      hasLog: Boolean(attempt.log_sha256),
    },
    phases: phaseList(attempt),
    tasks,
    failed,
    passedCount: rows.filter((r) => r.status === "passed").length,
    checkCount: labChecks.length,
    liveLabels: LIVE_LABELS,
  };
}
