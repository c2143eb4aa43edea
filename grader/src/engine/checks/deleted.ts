import { z } from "zod";
import { defineCheck, type CheckContext, type Verdict } from "../check.ts";
import { evidenceOf, failed, passed, pending, summarize } from "../evidence.ts";
import { describeSelector, historyOf, lastEntry, stateAt } from "../objects.ts";
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
  /**
   * What they made (owned, everyInNamespace) must be gone, or being deleted, by the time each listed
   * object is gone: cleanup that a finalizer waits for, not a garbage collector that follows it.
   */
  cleanupFirst: z.boolean().default(false),
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

/** A listed object that went away while things it made still stood, not even being deleted. */
interface EarlyRelease {
  owner: Fate;
  left: TraceEntry[];
}

function earlyRelease(owners: Fate[], others: Fate[]): EarlyRelease | undefined {
  for (const owner of owners) {
    const gone = lastEntry(owner.history);
    if (owner.deletedAt === undefined || !gone) continue;
    const left = others
      .map((other) => stateAt(other.history, gone))
      .filter((entry): entry is TraceEntry => entry !== null && !entry.object.metadata.deletionTimestamp);
    if (left.length > 0) return { owner, left };
  }
  return undefined;
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
  const made = [...others.values()].map((selector) => fateOf(selector, ctx));
  const fates = [...owners, ...made];
  const story = fates.flatMap((f) => f.history);
  const extra = params.owned || params.everyInNamespace ? ["everything they made"] : [];
  const names = [params.objects.map(describeSelector).join(", "), ...extra].join(" and ");
  const remaining = fates.filter((f) => f.deletedAt === undefined);
  const goneAt = Math.max(ctx.since, ...fates.map((f) => f.deletedAt ?? 0));
  // Judged once everything is gone (or at the end): each kind is watched on its own stream, so a
  // child's deletion may arrive after its owner's although it was written first.
  const early = params.cleanupFirst && (remaining.length === 0 || ctx.final) ? earlyRelease(owners, made) : undefined;
  if (early) {
    const owner = describeSelector(early.owner.selector);
    const left = early.left.map((e) => `${e.object.kind} ${e.object.metadata.name}`).join(", ");
    return failed({
      message: `${owner} went away before its cleanup: ${left} still stood, and nothing had asked to delete it`,
      expected: `${owner} kept (by its finalizer) until what it made is deleted`,
      actual: `${owner} was gone while ${left} still existed without a deletionTimestamp`,
      decidedAt: remaining.length === 0 ? goneAt : ctx.now,
      evidence: evidenceOf(
        early.left.map((e) => e.object),
        story,
      ),
    });
  }
  if (remaining.length === 0) {
    return passed(`${names} ${fates.length === 1 ? "is" : "are all"} gone`, goneAt, evidenceOf([], story));
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
