import { z } from "zod";
import { defineCheck, type CheckContext, type Verdict } from "../check.ts";
import { celHolds, compileCel, refineCel } from "../cel.ts";
import { evidenceOf, failed, formatMs, passed, pending, summarize } from "../evidence.ts";
import { describeSelector, historyOf, lastEntry } from "../objects.ts";
import { DurationSchema, ObjectSelectorSchema, durationMs, subjectObjects } from "../params.ts";
import type { TraceEntry } from "../trace.ts";

/**
 * No hot loop: once the object reaches a state, it is modified at most `maxUpdates` times in
 * the following window. Updates after deletion starts are not counted (deleting is not looping).
 */
export const ParamsSchema = z
  .strictObject({
    /** The object whose updates are counted. */
    object: ObjectSelectorSchema,
    /** CEL predicate over `self` for the state after which the object should be left alone. */
    after: z.string().min(1),
    /** The state in a learner's words, e.g. "Completed". */
    state: z.string().min(1).optional(),
    /** How many further updates are tolerated in the window. */
    maxUpdates: z.number().int().min(0),
    /** How long after reaching the state updates are counted. */
    window: DurationSchema,
    /**
     * CEL predicate over `self` (the update) and `before` (the version it replaced) saying whether an
     * update counts, e.g. only a new backup, not a label or a condition's message; every update counts without it.
     */
    counts: z.string().min(1).optional(),
    /** What a counted update is, in a learner's words (e.g. "new backups"); defaults to "updates". */
    counted: z.string().min(1).optional(),
  })
  .superRefine((params, ctx) => {
    refineCel(ctx, params.after, ["self"], "bool", ["after"]);
    if (params.counts) refineCel(ctx, params.counts, ["self", "before"], "bool", ["counts"]);
  });
export type Params = z.infer<typeof ParamsSchema>;

function isUpdate(entry: TraceEntry): boolean {
  return entry.type === "MODIFIED" && !entry.object.metadata.deletionTimestamp;
}

export function evaluate(params: Params, ctx: CheckContext): Verdict {
  const history = historyOf(ctx.trace, params.object, ctx.namespace);
  const what = describeSelector(params.object);
  const program = compileCel(params.after, ["self"]);
  const state = params.state ?? params.after;
  const reached = history.find((entry) => entry.type !== "DELETED" && celHolds(program, { self: entry.object }));

  if (!reached) {
    if (!ctx.final) return pending();
    const last = lastEntry(history);
    return failed({
      message: `${what} never reached ${state}, so whether it is then left alone could not be judged`,
      expected: `${what} reaches ${state} and is then left alone`,
      actual: last
        ? `${what} is ${last.type === "DELETED" ? "deleted" : summarize(last.object)}`
        : `${what} was never created`,
      decidedAt: ctx.now,
      evidence: evidenceOf([last?.object], history),
    });
  }

  const windowEnd = reached.at + durationMs(params.window);
  const counts = params.counts ? compileCel(params.counts, ["self", "before"]) : undefined;
  const counted = params.counted ?? "updates";
  const updates = history.filter((entry, i) => {
    if (entry.seq <= reached.seq || entry.at > windowEnd || !isUpdate(entry)) return false;
    return !counts || celHolds(counts, { self: entry.object, before: history[i - 1]?.object ?? null });
  });
  const excess = updates[params.maxUpdates];
  if (excess) {
    return failed({
      message: `${what} was not left alone after it reached ${state}: ${updates.length} ${counted}`,
      expected: `at most ${params.maxUpdates} ${counted} within ${params.window} after ${state}`,
      actual: `${updates.length} ${counted} within ${formatMs(excess.at - reached.at)} (the latest: ${summarize(excess.object)})`,
      decidedAt: excess.at,
      evidence: evidenceOf([excess.object], [reached, ...updates]),
    });
  }
  if (ctx.now < windowEnd && !ctx.final) return pending(windowEnd);
  const observed = Math.min(ctx.now, windowEnd) - reached.at;
  return passed(
    `${what}: ${updates.length} ${counted} in the ${formatMs(observed)} after it reached ${state}`,
    Math.min(ctx.now, windowEnd),
    evidenceOf([lastEntry(history)?.object], [reached, ...updates]),
  );
}

export const quietCheck = defineCheck({
  type: "quiet",
  ParamsSchema,
  clusterLevel: false,
  objects: subjectObjects,
  passesByAbsence: true,
  evaluate,
});
