import type { z } from "zod";
import type { ObjectSelector } from "./params.ts";
import type { KubeObject, ProbeResult, Trace, TraceEntry } from "./trace.ts";

/** One row of a failed check's timeline: what an object looked like, and when. */
export interface TimelineItem {
  at: number;
  seq: number;
  type: TraceEntry["type"];
  kind: string;
  name: string;
  /** A short human summary of the version, e.g. "phase=Pending BackupReady=False/DatabaseNotReady". */
  summary: string;
}

export interface Evidence {
  /** The relevant objects as they were when the check was decided. */
  objects: KubeObject[];
  /** The relevant slice of the trace. */
  timeline: TimelineItem[];
}

export type Verdict =
  /** Not decided yet; `recheckAt` (ms) asks to be evaluated again then even if nothing new is recorded. */
  | { status: "pending"; recheckAt?: number }
  | { status: "passed"; message: string; decidedAt: number; evidence: Evidence }
  | { status: "failed"; message: string; expected: string; actual: string; decidedAt: number; evidence: Evidence }
  /** The record cannot tell (it has a gap where the answer lies): not gradable, never the learner's loss. */
  | { status: "undecidable"; reason: string; decidedAt: number };

/** A check's answer: it passed or it failed. */
export type DecidedVerdict = Extract<Verdict, { status: "passed" | "failed" }>;

/** Whatever ends a check's evaluation: an answer, or the record's admission that it cannot tell. */
export type FinalVerdict = Exclude<Verdict, { status: "pending" }>;

/** What a check may ask the runner to do against the cluster before it is evaluated. */
export type ProbeRequest =
  /**
   * Server-side dry-run apply of a manifest (already rendered); `untilOutcome`: asked again each
   * second until the check holds or its time runs out (what the grader just put in force, such as
   * an admission policy, reaches the API server's admission a moment after it is stored).
   */
  | { kind: "admission"; manifest: KubeObject; untilOutcome?: boolean }
  /** A SubjectAccessReview for the operator's ServiceAccount. */
  | { kind: "access"; verb: string; group: string; resource: string; subresource?: string; namespace?: string };

export interface CheckContext {
  /** Everything recorded so far (all namespaces, all watched kinds, events, operator logs). */
  trace: Trace;
  /** The scenario's namespace; object selectors without a namespace mean this one. */
  namespace: string;
  /** Start of the check's window (ms on the grade clock); earlier entries are history. */
  since: number;
  /** The grade clock now (ms). */
  now: number;
  /** True once the window has closed (deadline passed or the scenario ended): the check must decide. */
  final: boolean;
  /** The probe's result, when the check type asked for one. */
  probe?: ProbeResult;
}

/** Every check type has this shape: a params schema and a pure evaluation over the trace, with what the runner and linter must know of it. */
export interface CheckType<P, T extends string = string> {
  type: T;
  ParamsSchema: z.ZodType<P>;
  /** Judged against the cluster's API (CRDs, admission, RBAC) rather than a scenario's objects. */
  clusterLevel: boolean;
  /** The objects the check reads, so the linter can tell whether the recorder watches their kinds. */
  objects?: (params: P) => ObjectSelector[];
  /**
   * The check passes because something did not happen (never, quiet): a gap in the record of its
   * objects' kinds during its window makes a pass unprovable.
   */
  passesByAbsence?: boolean;
  /**
   * The check fails because something was not seen (a state, a condition, a step): a gap in the
   * record of its objects' kinds during its window makes a failure unprovable, since what it waited
   * for may have come and gone while the watch was broken.
   */
  failsByAbsence?: boolean;
  probe?: (params: P) => ProbeRequest;
  evaluate: (params: P, ctx: CheckContext) => Verdict;
}

/** Declares a check type; its name keeps its literal type, which the lab schema's union is keyed by. */
export function defineCheck<P, const T extends string>(check: CheckType<P, T>): CheckType<P, T> {
  return check;
}
