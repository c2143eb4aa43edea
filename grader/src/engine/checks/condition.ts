import { z } from "zod";
import { defineCheck, type CheckContext, type Verdict } from "../check.ts";
import { conditionsOf, type ConditionLike } from "../cel.ts";
import { currentState, evidenceOf, failed, formatMs, passed, pending } from "../evidence.ts";
import { describeSelector, historyOf, lastEntry, windowed } from "../objects.ts";
import { ObjectSelectorSchema, RegexSchema, regexOf, subjectObjects } from "../params.ts";
import type { KubeObject } from "../trace.ts";

/** Shorthand for "status.conditions has this condition" becoming true within the timeout. */
export const ParamsSchema = z.strictObject({
  /** The object whose status.conditions are read. */
  object: ObjectSelectorSchema,
  /** Condition type, e.g. BackupReady. */
  type: z.string().min(1),
  /** Condition status. */
  status: z.enum(["True", "False", "Unknown"]),
  /** Condition reason, e.g. DatabaseNotFound; any reason when left out. */
  reason: z.string().min(1).optional(),
  /** Regular expression the condition's message must match; any message when left out. */
  messagePattern: RegexSchema.optional(),
});
export type Params = z.infer<typeof ParamsSchema>;

function wanted(params: Params): string {
  const reason = params.reason ? `/${params.reason}` : "";
  const message = params.messagePattern ? ` with a message matching /${params.messagePattern}/` : "";
  return `condition ${params.type}=${params.status}${reason}${message}`;
}

function holds(params: Params, condition: ConditionLike & { message?: unknown }): boolean {
  if (condition.type !== params.type || condition.status !== params.status) return false;
  if (params.reason !== undefined && condition.reason !== params.reason) return false;
  if (params.messagePattern === undefined) return true;
  return typeof condition.message === "string" && regexOf(params.messagePattern).test(condition.message);
}

function describeCondition(params: Params, object: KubeObject | undefined): string {
  const found = conditionsOf(object).find((c) => c.type === params.type);
  if (!found) return `no ${params.type} condition`;
  const message = (found as { message?: unknown }).message;
  const reason = typeof found.reason === "string" ? `/${found.reason}` : "";
  return `${params.type}=${String(found.status)}${reason}${typeof message === "string" && message ? ` ("${message}")` : ""}`;
}

export function evaluate(params: Params, ctx: CheckContext): Verdict {
  const history = historyOf(ctx.trace, params.object, ctx.namespace);
  const what = describeSelector(params.object);
  for (const entry of windowed(history, ctx.since)) {
    if (entry.type === "DELETED" || !conditionsOf(entry.object).some((c) => holds(params, c))) continue;
    const at = Math.max(entry.at, ctx.since);
    return passed(
      `${what} has ${wanted(params)} after ${formatMs(at - ctx.since)}`,
      at,
      evidenceOf([entry.object], history),
    );
  }
  if (!ctx.final) return pending();
  const last = lastEntry(history);
  const alive = last && last.type !== "DELETED" ? last.object : undefined;
  return failed({
    message: `${what} did not get ${wanted(params)} in time`,
    expected: `${what}: ${wanted(params)}`,
    actual: alive ? `${what} has ${describeCondition(params, alive)}` : currentState(history, what),
    decidedAt: ctx.now,
    evidence: evidenceOf([alive], history),
  });
}

export const conditionCheck = defineCheck({
  type: "condition",
  ParamsSchema,
  clusterLevel: false,
  objects: subjectObjects,
  failsByAbsence: true,
  evaluate,
});
