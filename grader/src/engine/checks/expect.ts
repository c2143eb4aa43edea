import { z } from "zod";
import { defineCheck, type CheckContext, type Verdict } from "../check.ts";
import { celHolds, compileCel, refineCel } from "../cel.ts";
import { currentState, evidenceOf, failed, formatMs, passed, pending } from "../evidence.ts";
import {
  aliasNames,
  boundHistories,
  boundObjectsAt,
  describeSelector,
  END,
  historyOf,
  lastEntry,
  momentsOf,
  stateAt,
  variablesAt,
} from "../objects.ts";
import { BindSchema, ObjectSelectorSchema, subjectObjects } from "../params.ts";

/** A CEL predicate over one object becomes true within the check's timeout. */
export const ParamsSchema = z
  .strictObject({
    /** The object the expression reads as `self`. */
    object: ObjectSelectorSchema,
    /** CEL predicate, e.g. `self.?status.?phase.orValue("") == "Ready"`. */
    expr: z.string().min(1),
    /** Other objects the expression may read, by alias (latest version at that moment, or null). */
    bind: BindSchema.optional(),
    /** The expected state in a learner's words, e.g. "phase Ready"; defaults to the expression. */
    expected: z.string().min(1).optional(),
  })
  .superRefine((params, ctx) => refineCel(ctx, params.expr, aliasNames(params.bind), "bool", ["expr"]));
export type Params = z.infer<typeof ParamsSchema>;

export function evaluate(params: Params, ctx: CheckContext): Verdict {
  const subject = historyOf(ctx.trace, params.object, ctx.namespace);
  const bound = boundHistories(ctx.trace, params.bind, ctx.namespace);
  const program = compileCel(params.expr, aliasNames(params.bind));
  const what = describeSelector(params.object);
  const wanted = params.expected ?? params.expr;
  const story = [...subject, ...bound.flatMap((b) => b.history)];

  for (const moment of momentsOf([subject, ...bound.map((b) => b.history)], ctx.since)) {
    const self = stateAt(subject, moment);
    if (!self || !celHolds(program, variablesAt(self.object, bound, moment))) continue;
    return passed(
      `${what} reached ${wanted} after ${formatMs(moment.at - ctx.since)}`,
      moment.at,
      evidenceOf([self.object, ...boundObjectsAt(bound, moment)], story),
    );
  }
  if (!ctx.final) return pending();
  const last = lastEntry(subject);
  return failed({
    message: `${what} did not reach ${wanted} in time`,
    expected: `${what}: ${wanted}`,
    actual: currentState(subject, what),
    decidedAt: ctx.now,
    evidence: evidenceOf([last?.type === "DELETED" ? null : last?.object, ...boundObjectsAt(bound, END)], story),
  });
}

export const expectCheck = defineCheck({
  type: "expect",
  ParamsSchema,
  clusterLevel: false,
  objects: subjectObjects,
  failsByAbsence: true,
  evaluate,
});
