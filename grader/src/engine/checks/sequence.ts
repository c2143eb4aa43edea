import { z } from "zod";
import { defineCheck, type CheckContext, type Verdict } from "../check.ts";
import { celValueText, compileCel, refineCel } from "../cel.ts";
import { evidenceOf, failed, passed, pending } from "../evidence.ts";
import { describeSelector, historyOf, lastEntry } from "../objects.ts";
import { ObjectSelectorSchema, subjectObjects } from "../params.ts";
import type { TraceEntry } from "../trace.ts";

/**
 * Values read from an object's history appear in this order. Other values may come between
 * and repeated values collapse, so Pending → InProgress → Completed fits [Pending, Completed].
 */
export const ParamsSchema = z
  .strictObject({
    /** The object whose history is read (all of it, not only the check's window). */
    object: ObjectSelectorSchema,
    /** CEL giving the value of one version as `self`, e.g. `self.status.phase`; unset fields are skipped. */
    value: z.string().min(1),
    /** What the value is, in a learner's words, e.g. "phase". */
    label: z.string().min(1).default("value"),
    /** The values that must appear, in this order. */
    order: z.array(z.string().min(1)).min(2),
  })
  .superRefine((params, ctx) => refineCel(ctx, params.value, ["self"], "any", ["value"]));
export type Params = z.infer<typeof ParamsSchema>;

interface Step {
  value: string;
  entry: TraceEntry;
}

/** The object's values, unset ones dropped and consecutive repeats collapsed. */
function valuesOf(params: Params, history: TraceEntry[]): Step[] {
  const program = compileCel(params.value, ["self"]);
  const steps: Step[] = [];
  for (const entry of history) {
    if (entry.type === "DELETED") continue;
    const outcome = program.run({ self: entry.object });
    const value = outcome.ok ? celValueText(outcome.value) : null;
    if (value === null || value === "" || steps[steps.length - 1]?.value === value) continue;
    steps.push({ value, entry });
  }
  return steps;
}

/** The entry at which `order` is complete as a subsequence of `steps`, if it is. */
function completion(order: string[], steps: Step[]): TraceEntry | undefined {
  let next = 0;
  for (const step of steps) {
    if (step.value !== order[next]) continue;
    next += 1;
    if (next === order.length) return step.entry;
  }
  return undefined;
}

export function evaluate(params: Params, ctx: CheckContext): Verdict {
  const history = historyOf(ctx.trace, params.object, ctx.namespace);
  const steps = valuesOf(params, history);
  const what = describeSelector(params.object);
  const wanted = params.order.join(" → ");
  const done = completion(params.order, steps);
  const last = lastEntry(history);
  const current = last && last.type !== "DELETED" ? last.object : undefined;
  if (done) {
    return passed(
      `${what}'s ${params.label} went ${wanted}`,
      Math.max(done.at, ctx.since),
      evidenceOf([current], history),
    );
  }
  if (!ctx.final) return pending();
  const seen = steps.map((s) => s.value).join(" → ");
  return failed({
    message: `${what}'s ${params.label} did not go ${wanted}`,
    expected: `${what}'s ${params.label} goes ${wanted} (other values may come between)`,
    actual:
      history.length === 0
        ? `${what} was never created`
        : seen
          ? `it went ${seen}`
          : `its ${params.label} was never set`,
    decidedAt: ctx.now,
    evidence: evidenceOf([current], history),
  });
}

export const sequenceCheck = defineCheck({
  type: "sequence",
  ParamsSchema,
  clusterLevel: false,
  objects: subjectObjects,
  failsByAbsence: true,
  evaluate,
});
