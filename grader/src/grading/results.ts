import type { CheckEvidence, CheckResult } from "../contracts.ts";
import type { Evidence } from "../engine/check.ts";
import { rootCauses } from "../engine/causes.ts";
import type { CheckSpec } from "../engine/lab.ts";
import type { RenderedCheck } from "../engine/render.ts";
import type { Trace } from "../engine/trace.ts";
import type { LiveVerdict } from "./live-check.ts";

/** How many of the operator's log lines a failed check carries. */
const LOG_EXCERPT_LINES = 30;

/** Adds what the engine does not know: Events about the evidence's objects, and the operator's log before the decision. */
export function withContext(evidence: Evidence, trace: Trace | undefined, decidedAt: number): CheckEvidence {
  const names = new Set(evidence.objects.map((o) => `${o.kind}/${o.metadata.name}`));
  const events = (trace?.events ?? [])
    .filter((e) => e.at <= decidedAt && names.has(`${e.regarding.kind}/${e.regarding.name}`))
    .map((e) => ({
      at: e.at,
      type: e.type,
      reason: e.reason,
      message: e.message,
      regarding: `${e.regarding.kind}/${e.regarding.name}`,
    }));
  const logs = (trace?.logs ?? [])
    .filter((l) => l.at <= decidedAt)
    .slice(-LOG_EXCERPT_LINES)
    .map((l) => ({ at: l.at, text: l.text }));
  return { objects: evidence.objects as Record<string, unknown>[], timeline: evidence.timeline, events, logs };
}

function base(check: Pick<CheckSpec, "id" | "task" | "title" | "severity" | "points" | "hint">) {
  return {
    id: check.id,
    task: check.task,
    title: check.title,
    required: check.severity === "required",
    points: check.points,
    hint: check.hint,
  };
}

/** The failure's message, followed by the dependencies that never got where this check needed them. */
function explained(
  message: string,
  check: RenderedCheck,
  trace: Trace | undefined,
  namespace: string | undefined,
  decidedAt: number,
): string {
  if (!trace || check.waitsFor.length === 0) return message;
  const causes = rootCauses(check.waitsFor, trace, namespace ?? "", decidedAt);
  if (causes.length === 0) return message;
  return `${message}${/[.!?]$/.test(message) ? "" : "."} Waited on: ${causes.join("; ")}.`;
}

export function toCheckResult(
  check: RenderedCheck,
  verdict: LiveVerdict,
  scenario: string | undefined,
  trace: Trace | undefined,
  namespace?: string,
): CheckResult {
  const at = { decidedAtMs: verdict.decidedAt, ...(scenario ? { scenario } : {}) };
  switch (verdict.status) {
    case "passed":
      return { ...base(check), ...at, status: "passed", message: verdict.message };
    case "failed":
      return {
        ...base(check),
        ...at,
        status: "failed",
        message: explained(verdict.message, check, trace, namespace, verdict.decidedAt),
        expected: verdict.expected,
        actual: verdict.actual,
        evidence: withContext(verdict.evidence, trace, verdict.decidedAt),
      };
    case "aborted":
      return {
        ...base(check),
        ...at,
        status: "failed",
        message: explained(`Not decided because ${verdict.reason}.`, check, trace, namespace, verdict.decidedAt),
        evidence: withContext({ objects: [], timeline: [] }, trace, verdict.decidedAt),
      };
    case "error":
      return { ...base(check), ...at, status: "error", message: `Not gradable: ${verdict.reason}` };
  }
}

/** A check the grade never reached: the platform's fault unless said otherwise. */
export function undecided(check: CheckSpec, reason: string): CheckResult {
  return { ...base(check), status: "error", message: `Not gradable: ${reason}`, decidedAtMs: 0 };
}

/**
 * A passed check that requires others is earned only when they passed too: a check that passes
 * because nothing forbidden happened proves nothing about an operator that did nothing at all.
 */
export function earned(result: CheckResult, required: CheckResult[], requires: string[]): CheckResult {
  const missing = requires.filter((id) => required.find((r) => r.id === id)?.status !== "passed");
  if (result.status !== "passed" || missing.length === 0) return result;
  const titles = missing.map((id) => {
    const r = required.find((c) => c.id === id);
    return r ? `"${r.title}" (${r.status === "error" ? "not decided" : r.status})` : `${id} (not decided)`;
  });
  const failedRequirement = missing.some((id) => required.find((r) => r.id === id)?.status === "failed");
  return {
    ...result,
    // A requirement the platform could not decide leaves this one undecided too: not gradable, not a loss.
    status: failedRequirement ? "failed" : "error",
    message: `Not earned: nothing forbidden was seen, but this is only worth its points once the operator was seen doing the work, and ${titles.join(" and ")} did not pass.`,
  };
}
