import { z } from "zod";
import { defineCheck, type CheckContext, type Verdict } from "../check.ts";
import { evidenceOf, failed, passed, pending, summarize } from "../evidence.ts";
import { describeSelector, historyOf, lastEntry } from "../objects.ts";
import { ObjectSelectorSchema, type ObjectSelector } from "../params.ts";
import type { TraceEntry } from "../trace.ts";

/**
 * Every listed object existed and is gone: its last recorded entry is a deletion (nothing
 * re-created it). For cleanup: finalizers that let go, owner references the garbage collector follows.
 */
export const ParamsSchema = z.strictObject({
  /** The objects that must be gone, e.g. a Database. */
  objects: z.array(ObjectSelectorSchema).min(1),
  /**
   * Every recorded object they owned (an ownerReference to one of them) must be gone too, whatever
   * its name; PersistentVolumeClaims excepted (a StatefulSet's claims outlive it by default).
   */
  owned: z.boolean().default(false),
  /**
   * Every recorded object of these kinds in the scenario's namespace must be gone too, whatever its
   * name and whether or not it names an owner: for a namespace that holds nothing but what the
   * deleted objects made (a child without an owner reference is left behind by a garbage collector).
   */
  everyInNamespace: z.array(z.string().min(1)).optional(),
});
export type Params = z.infer<typeof ParamsSchema>;

interface Fate {
  selector: ObjectSelector;
  history: TraceEntry[];
  deletedAt?: number;
}

function fateOf(selector: ObjectSelector, ctx: CheckContext): Fate {
  const history = historyOf(ctx.trace, selector, ctx.namespace);
  const last = lastEntry(history);
  return last?.type === "DELETED" ? { selector, history, deletedAt: last.at } : { selector, history };
}

function whyNotGone(fate: Fate): string {
  const what = describeSelector(fate.selector);
  const last = lastEntry(fate.history);
  if (!last) return `${what} was never created`;
  const finalizers = last.object.metadata.finalizers ?? [];
  if (last.object.metadata.deletionTimestamp && finalizers.length > 0) {
    return `${what} is stuck deleting: finalizer ${finalizers.join(", ")} was never removed`;
  }
  return `${what} still exists (${summarize(last.object)})`;
}

/** Objects recorded with an ownerReference to one of the owners' uids, in the owners' namespace. */
function ownedBy(owners: Fate[], ctx: CheckContext): ObjectSelector[] {
  const uids = new Set(
    owners.flatMap((f) =>
      f.history.map((e) => e.object.metadata.uid).filter((uid): uid is string => uid !== undefined),
    ),
  );
  const found = new Map<string, ObjectSelector>();
  for (const { object } of ctx.trace.entries) {
    if (object.kind === "PersistentVolumeClaim" || (object.metadata.namespace ?? ctx.namespace) !== ctx.namespace)
      continue;
    const owners = object.metadata.ownerReferences ?? [];
    if (owners.some((o) => typeof o.uid === "string" && uids.has(o.uid)))
      found.set(`${object.kind}/${object.metadata.name}`, { kind: object.kind, name: object.metadata.name });
  }
  return [...found.values()];
}

/** Every recorded object of the given kinds in the scenario's namespace. */
function inNamespace(kinds: string[], ctx: CheckContext): ObjectSelector[] {
  const found = new Map<string, ObjectSelector>();
  for (const { object } of ctx.trace.entries) {
    if (kinds.includes(object.kind) && object.metadata.namespace === ctx.namespace)
      found.set(`${object.kind}/${object.metadata.name}`, { kind: object.kind, name: object.metadata.name });
  }
  return [...found.values()];
}

export function evaluate(params: Params, ctx: CheckContext): Verdict {
  const owners = params.objects.map((selector) => fateOf(selector, ctx));
  const others = new Map<string, ObjectSelector>();
  for (const selector of [
    ...(params.owned ? ownedBy(owners, ctx) : []),
    ...inNamespace(params.everyInNamespace ?? [], ctx),
  ]) {
    if (!params.objects.some((o) => o.kind === selector.kind && o.name === selector.name))
      others.set(`${selector.kind}/${selector.name}`, selector);
  }
  const fates = [...owners, ...[...others.values()].map((selector) => fateOf(selector, ctx))];
  const story = fates.flatMap((f) => f.history);
  const extra = params.owned || params.everyInNamespace ? ["everything they made"] : [];
  const names = [params.objects.map(describeSelector).join(", "), ...extra].join(" and ");
  const remaining = fates.filter((f) => f.deletedAt === undefined);
  if (remaining.length === 0) {
    const at = Math.max(ctx.since, ...fates.map((f) => f.deletedAt ?? 0));
    return passed(`${names} ${fates.length === 1 ? "is" : "are all"} gone`, at, evidenceOf([], story));
  }
  if (!ctx.final) return pending();
  return failed({
    message: `not everything was cleaned up: ${remaining.map((f) => describeSelector(f.selector)).join(", ")}`,
    expected: `${names} deleted`,
    actual: remaining.map(whyNotGone).join("; "),
    decidedAt: ctx.now,
    evidence: evidenceOf(
      remaining.map((f) => lastEntry(f.history)?.object),
      story,
    ),
  });
}

export const deletedCheck = defineCheck({
  type: "deleted",
  ParamsSchema,
  clusterLevel: false,
  objects: (p) => p.objects,
  evaluate,
});
