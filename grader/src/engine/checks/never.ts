import { z } from "zod";
import { defineCheck, type CheckContext, type Verdict } from "../check.ts";
import { celHolds, compileCel, refineCel } from "../cel.ts";
import { evidenceOf, failed, passed, pending, summarize } from "../evidence.ts";
import {
  aliasNames,
  boundHistories,
  boundObjectsAt,
  compareOrder,
  describeSelector,
  END,
  historyOf,
  lastEntry,
  variablesAt,
  windowed,
  type Point,
} from "../objects.ts";
import { AliasSchema, BindSchema, ObjectSelectorSchema, subjectObjects, type Bind } from "../params.ts";

/**
 * A CEL predicate is never true for any version of the object during the window. Each version
 * is judged with `self` = that version and each alias = the latest version of that other object
 * seen at or before it (or null) — changes of the other objects alone are not judged.
 */
export const ParamsSchema = z
  .strictObject({
    /** The object whose versions are judged. */
    object: ObjectSelectorSchema,
    /** CEL predicate describing the forbidden state. */
    expr: z.string().min(1),
    /** Other objects the expression may read, by alias. */
    bind: BindSchema.optional(),
    /**
     * Facts about other objects' histories, by alias: true once some version of that object, at or
     * before the judged version, satisfied `expr` (with `self` = that version). Unlike `bind`, a
     * later change of the other object does not undo it.
     */
    seen: z.record(AliasSchema, z.strictObject({ object: ObjectSelectorSchema, expr: z.string().min(1) })).optional(),
    /** The forbidden state in a learner's words; defaults to the expression. */
    forbidden: z.string().min(1).optional(),
    /**
     * CEL predicate that closes the window: once a version that is not forbidden satisfies it, later
     * versions are not judged (e.g. "past the gate": what happens after a legitimate hand-over is not this check's business).
     */
    until: z.string().min(1).optional(),
    /** Fail at the end if the object was never seen (so the check cannot pass by observing nothing). */
    mustExist: z.boolean().default(true),
  })
  .superRefine((params, ctx) => {
    const clashes = Object.keys(params.seen ?? {}).filter((alias) => params.bind && alias in params.bind);
    for (const alias of clashes)
      ctx.addIssue({ code: "custom", message: `alias ${alias} is both bound and seen`, path: ["seen", alias] });
    if (clashes.length > 0) return;
    const names = variableNames(params);
    refineCel(ctx, params.expr, names, "bool", ["expr"]);
    if (params.until) refineCel(ctx, params.until, names, "bool", ["until"]);
    for (const [alias, fact] of Object.entries(params.seen ?? {}))
      refineCel(ctx, fact.expr, ["self"], "bool", ["seen", alias, "expr"]);
  });
export type Params = z.infer<typeof ParamsSchema>;

function variableNames(params: { bind?: Bind | undefined; seen?: Record<string, unknown> | undefined }): string[] {
  return [...aliasNames(params.bind), ...Object.keys(params.seen ?? {})];
}

/** For each `seen` alias, the first moment at which the fact became true (or none). */
function firstSeen(params: Params, ctx: CheckContext): Record<string, Point | undefined> {
  return Object.fromEntries(
    Object.entries(params.seen ?? {}).map(([alias, fact]) => {
      const program = compileCel(fact.expr, ["self"]);
      const hit = historyOf(ctx.trace, fact.object, ctx.namespace).find(
        (e) => e.type !== "DELETED" && celHolds(program, { self: e.object }),
      );
      return [alias, hit];
    }),
  );
}

export function evaluate(params: Params, ctx: CheckContext): Verdict {
  const subject = historyOf(ctx.trace, params.object, ctx.namespace);
  const bound = boundHistories(ctx.trace, params.bind, ctx.namespace);
  const names = variableNames(params);
  const program = compileCel(params.expr, names);
  const closing = params.until ? compileCel(params.until, names) : undefined;
  const seenAt = firstSeen(params, ctx);
  const seenAsOf = (point: Point) =>
    Object.fromEntries(
      Object.entries(seenAt).map(([alias, first]) => [alias, first !== undefined && compareOrder(first, point) <= 0]),
    );
  let closedAt: number | undefined;
  const what = describeSelector(params.object);
  const forbidden = params.forbidden ?? params.expr;
  const story = [...subject, ...bound.flatMap((b) => b.history)];

  for (const entry of windowed(subject, ctx.since)) {
    if (entry.type === "DELETED") continue;
    const variables = { ...variablesAt(entry.object, bound, entry), ...seenAsOf(entry) };
    if (!celHolds(program, variables)) {
      if (closing && celHolds(closing, variables)) {
        closedAt = entry.at;
        break;
      }
      continue;
    }
    const others = boundObjectsAt(bound, entry);
    const context = others.map((o) => `${o.kind} ${o.metadata.name} was ${summarize(o)}`);
    const missing = bound.filter(
      (b) => !others.some((o) => o.kind === b.selector.kind && o.metadata.name === b.selector.name),
    );
    context.push(...missing.map((b) => `${describeSelector(b.selector)} did not exist`));
    return failed({
      message: `${what} reached a forbidden state: ${forbidden}`,
      expected: `${what} never: ${forbidden}`,
      actual: `${what} was ${summarize(entry.object)}${context.length > 0 ? ` while ${context.join(" and ")}` : ""}`,
      decidedAt: Math.max(entry.at, ctx.since),
      evidence: evidenceOf(
        [entry.object, ...others],
        story.filter((e) => compareOrder(e, entry) <= 0),
      ),
    });
  }
  if (!ctx.final && closedAt === undefined) return pending();
  const last = lastEntry(subject);
  const current = last && last.type !== "DELETED" ? last.object : undefined;
  if (params.mustExist && subject.length === 0) {
    return failed({
      message: `${what} never appeared, so there was nothing to watch`,
      expected: `${what} exists and never: ${forbidden}`,
      actual: `${what} was never created`,
      decidedAt: ctx.now,
      evidence: evidenceOf([], story),
    });
  }
  return passed(
    `${what} never reached: ${forbidden}`,
    closedAt ?? ctx.now,
    evidenceOf([current, ...boundObjectsAt(bound, END)], story),
  );
}

export const neverCheck = defineCheck({
  type: "never",
  ParamsSchema,
  clusterLevel: false,
  objects: subjectObjects,
  passesByAbsence: true,
  evaluate,
});
