import type { z } from "zod";
import type { CheckContext, CheckType, DecidedVerdict, ProbeRequest, Verdict } from "./check.ts";
import { admissionCheck } from "./checks/admission.ts";
import { conditionCheck } from "./checks/condition.ts";
import { crdCheck } from "./checks/crd.ts";
import { deletedCheck } from "./checks/deleted.ts";
import { eventsCheck } from "./checks/events.ts";
import { expectCheck } from "./checks/expect.ts";
import { logsCheck } from "./checks/logs.ts";
import { neverCheck } from "./checks/never.ts";
import { quietCheck } from "./checks/quiet.ts";
import { rbacCheck } from "./checks/rbac.ts";
import { sequenceCheck } from "./checks/sequence.ts";
import { formatMs } from "./evidence.ts";
import { cpuContention } from "./host.ts";
import { lastActivityIn, lastChangeOf, platformAtWorkIn, podsAtWorkIn, podsNotYetRunIn } from "./objects.ts";
import type { ObjectSelector } from "./params.ts";
import type { Trace, TraceGap } from "./trace.ts";

/** A check type with its parameters' type erased: params are parsed by its own schema on the way in. */
export interface RegisteredCheckType {
  type: string;
  ParamsSchema: z.ZodType;
  /** Judged against the cluster's API (CRDs, admission, RBAC) rather than a scenario's objects. */
  clusterLevel: boolean;
  /** The objects the check reads, so the linter can tell whether the recorder watches their kinds. */
  objects: (params: unknown) => ObjectSelector[];
  probe: (params: unknown) => ProbeRequest | undefined;
  evaluate: (params: unknown, ctx: CheckContext) => Verdict;
}

function register<P>(check: CheckType<P>): RegisteredCheckType {
  const { clusterLevel, objects, passesByAbsence = false, failsByAbsence = false } = check;
  // Params are parsed once per params object: the runner evaluates the same check many times.
  const parsed = new WeakMap<object, P>();
  const parse = (raw: unknown): P => {
    const key = typeof raw === "object" && raw !== null ? raw : undefined;
    const hit = key ? parsed.get(key) : undefined;
    if (hit !== undefined) return hit;
    const result = check.ParamsSchema.safeParse(raw);
    if (!result.success) throw new Error(`invalid params for a ${check.type} check: ${result.error.message}`);
    if (key) parsed.set(key, result.data);
    return result.data;
  };
  const byAbsence = (verdict: Verdict): verdict is DecidedVerdict =>
    (verdict.status === "passed" && passesByAbsence) || (verdict.status === "failed" && failsByAbsence);
  return {
    type: check.type,
    ParamsSchema: check.ParamsSchema,
    clusterLevel,
    objects: (raw) => (objects ? objects(parse(raw)) : []),
    probe: (raw) => (check.probe ? check.probe(parse(raw)) : undefined),
    evaluate: (raw, ctx) => {
      const params = parse(raw);
      const verdict = check.evaluate(params, ctx);
      if (!objects || !byAbsence(verdict)) return verdict;
      const gap = gapDuring(ctx.trace, new Set(objects(params).map((o) => o.kind)), ctx.since, verdict.decidedAt);
      if (!gap) return verdict;
      const what =
        verdict.status === "passed"
          ? "whether this ever happened cannot be told"
          : "what it waited for may have happened unrecorded";
      return {
        status: "undecidable",
        reason: `the record of ${gap.kind} objects has a gap from ${formatMs(gap.from)} to ${formatMs(gap.to)} (its watch broke and was re-listed), so ${what}`,
        decidedAt: verdict.decidedAt,
      };
    },
  };
}

function gapDuring(trace: Trace, kinds: Set<string>, from: number, to: number): TraceGap | undefined {
  return (trace.gaps ?? []).find((g) => kinds.has(g.kind) && g.to >= from && g.from <= to);
}

/** Every check type, each declared once in its own module; the lab schema's union of checks follows this order. */
export const CHECK_TYPES = [
  crdCheck,
  admissionCheck,
  rbacCheck,
  expectCheck,
  conditionCheck,
  sequenceCheck,
  neverCheck,
  quietCheck,
  deletedCheck,
  logsCheck,
  eventsCheck,
] as const;

export type CheckTypeName = (typeof CHECK_TYPES)[number]["type"];

export const checkTypes: Readonly<Record<CheckTypeName, RegisteredCheckType>> = Object.fromEntries(
  CHECK_TYPES.map((check) => [check.type, register(check as CheckType<unknown>)]),
) as Record<CheckTypeName, RegisteredCheckType>;

/** What evaluating a check needs: its type and params, and how long it waits on a record that stands still. */
export interface CheckCall {
  type: string;
  params: unknown;
  /** Decide once nothing the check reads has changed for this long (ms); see the lab's `stuckAfter`. */
  stuckAfterMs?: number;
  /** Objects it depends on besides its own (a `waitsFor`): their changes count as progress too. */
  waitsFor?: { object: ObjectSelector }[];
}

export function checkTypeOf(type: string): RegisteredCheckType {
  const found = (checkTypes as Record<string, RegisteredCheckType>)[type];
  if (!found) throw new Error(`unknown check type "${type}"; known: ${Object.keys(checkTypes).join(", ")}`);
  return found;
}

/** What to ask the cluster before evaluating this check, if anything (dry-run apply, access review). */
export function probeFor(check: CheckCall): ProbeRequest | undefined {
  return checkTypeOf(check.type).probe(check.params);
}

/**
 * Judges a check against what was recorded so far. Pure and repeatable: call it after every new
 * trace entry, event or log line, at `recheckAt` of a pending verdict, and once with
 * `final: true` at the deadline; keep the first decided verdict.
 */
export function evaluateCheck(check: CheckCall, ctx: CheckContext): Verdict {
  const type = checkTypeOf(check.type);
  const verdict = type.evaluate(check.params, ctx);
  if (ctx.final && verdict.status === "failed" && check.stuckAfterMs !== undefined)
    return hostStillStarting(verdict, ctx) ?? verdict;
  if (verdict.status !== "pending" || check.stuckAfterMs === undefined || ctx.final) return verdict;
  // Nothing it reads, and nothing in its namespace, has moved for a while: waiting out the rest of
  // the timeout would not change the outcome. A pod the platform is still scheduling, giving a
  // volume, starting or probing counts as moving however quiet it is: on a busy host that alone
  // can take longer than stuckAfter, and it is no fault of the operator's.
  const read = [...type.objects(check.params), ...(check.waitsFor ?? []).map((w) => w.object)];
  const moved = platformAtWorkIn(ctx.trace, ctx.namespace)
    ? ctx.now
    : Math.max(ctx.since, lastChangeOf(ctx.trace, read, ctx.namespace), lastActivityIn(ctx.trace, ctx.namespace));
  const stuckAt = moved + check.stuckAfterMs;
  if (ctx.now < stuckAt)
    return {
      status: "pending",
      recheckAt: verdict.recheckAt === undefined ? stuckAt : Math.min(verdict.recheckAt, stuckAt),
    };
  const final = type.evaluate(check.params, { ...ctx, final: true });
  if (final.status !== "failed") return final;
  return {
    ...final,
    message: `${final.message} (nothing it depends on, nor anything in its namespace, changed for ${formatMs(check.stuckAfterMs)}, so it stopped waiting)`,
  };
}

/**
 * Above this share of a check's window with some task waiting for a CPU, the host is too busy for
 * a pod that is still starting at the deadline to count against the operator.
 */
export const BUSY_HOST_SHARE = 0.5;

/**
 * A liveness check that ran out of time while pods of its namespace were still being started
 * cannot tell a slow host from a broken operator: not gradable, and graded again; never the
 * learner's loss. That holds for pods whose containers have not even started (no node or volume
 * yet, containers still being created), always; and for pods whose containers run but are not
 * ready yet (a database initialising) when the host's CPU was contended for most of the window.
 * On a host with CPU to spare, a pod that never became ready is the operator's to answer for.
 */
function hostStillStarting(failed: Verdict & { status: "failed" }, ctx: CheckContext): Verdict | undefined {
  const named = (pods: { name: string; stage: string }[]) => pods.map((p) => `${p.name} (${p.stage})`).join(", ");
  const wouldHave = `so it is graded again (it would have failed: ${failed.message})`;
  const notRun = podsNotYetRunIn(ctx.trace, ctx.namespace);
  if (notRun.length > 0)
    return {
      status: "undecidable",
      reason: `time ran out while the cluster was still starting pods in ${ctx.namespace}: ${named(notRun)}; a busy host can cause this, ${wouldHave}`,
      decidedAt: ctx.now,
    };
  const starting = podsAtWorkIn(ctx.trace, ctx.namespace);
  const contention = cpuContention(ctx.trace, ctx.since, ctx.now);
  if (starting.length === 0 || contention === undefined || contention < BUSY_HOST_SHARE) return undefined;
  return {
    status: "undecidable",
    reason: `time ran out while pods in ${ctx.namespace} were still starting: ${named(starting)}, on a busy host (some task waited for a CPU ${Math.round(contention * 100)}% of the check's ${formatMs(ctx.now - ctx.since)}); ${wouldHave}`,
    decidedAt: ctx.now,
  };
}
