import { z } from "zod";
import { defineCheck, type CheckContext, type ProbeRequest, type Verdict } from "../check.ts";
import { celHolds, compileCel, refineCel } from "../cel.ts";
import { emptyEvidence, evidenceOf, failed, passed, pending } from "../evidence.ts";
import { RegexSchema, regexOf } from "../params.ts";
import { KubeObjectSchema, type KubeObject } from "../trace.ts";

/**
 * What the API server does with a manifest on a server-side dry-run apply: accept it (and
 * default it as the CRD's schema says) or reject it. Only test what the generated schema
 * really rejects: a Backup with no `spec` at all may pass, since databaseRef is required only inside spec.
 */
export const ParamsSchema = z
  .strictObject({
    /** The manifest to dry-run apply; templated, so "{{namespace}}" may name the scenario's namespace. */
    manifest: KubeObjectSchema,
    /** What the API server must do with it. */
    outcome: z.enum(["accepted", "rejected"]),
    /** Regular expression the rejection message must match (case-insensitive), e.g. "retention". */
    messagePattern: RegexSchema.optional(),
    /** CEL predicate over the accepted, defaulted object as `self`, e.g. `self.spec.retention == 5`. */
    expr: z.string().min(1).optional(),
    /** What `expr` means, in a learner's words, e.g. "spec.retention defaults to 5". */
    expected: z.string().min(1).optional(),
    /**
     * Dry-run again each second until the outcome holds or the timeout: for the grader's own
     * preconditions, such as an admission policy it just applied (in force a moment after it is stored).
     */
    untilOutcome: z.boolean().optional(),
  })
  .superRefine((params, ctx) => {
    if (params.expr !== undefined) refineCel(ctx, params.expr, ["self"], "bool", ["expr"]);
    if (params.outcome === "rejected" && params.expr !== undefined) {
      ctx.addIssue({
        code: "custom",
        message: "`expr` reads the accepted object; a rejected manifest has none",
        path: ["expr"],
      });
    }
  });
export type Params = z.infer<typeof ParamsSchema>;

function describe(manifest: KubeObject): string {
  return `${manifest.kind} ${manifest.metadata.name}`;
}

export function probe(params: Params): ProbeRequest {
  return { kind: "admission", manifest: params.manifest, ...(params.untilOutcome ? { untilOutcome: true } : {}) };
}

export function evaluate(params: Params, ctx: CheckContext): Verdict {
  const result = ctx.probe;
  const what = describe(params.manifest);
  if (!result || result.kind !== "admission") {
    if (!ctx.final) return pending();
    return failed({
      message: `the dry-run of ${what} did not happen`,
      expected: `a dry-run result for ${what}`,
      actual: "no result was recorded",
      decidedAt: ctx.now,
      evidence: emptyEvidence,
    });
  }
  const objects = result.object ? [result.object] : [];
  const fail = (message: string, expected: string, actual: string): Verdict =>
    failed({ message, expected, actual, decidedAt: result.at, evidence: evidenceOf(objects, []) });

  if (params.outcome === "rejected") {
    if (result.accepted) return fail(`the API server accepted ${what}`, `${what} is rejected`, "it was accepted");
    if (params.messagePattern && !regexOf(params.messagePattern, true).test(result.message)) {
      return fail(
        `the API server rejected ${what}, but not for the expected reason`,
        `${what} is rejected with a message matching /${params.messagePattern}/i`,
        `it was rejected: ${result.message}`,
      );
    }
    return passed(`the API server rejected ${what}: ${result.message}`, result.at, evidenceOf(objects, []));
  }
  if (!result.accepted)
    return fail(`the API server rejected ${what}`, `${what} is accepted`, `it was rejected: ${result.message}`);
  if (params.expr !== undefined) {
    const wanted = params.expected ?? params.expr;
    if (!result.object) return fail(`the dry-run returned no object for ${what}`, wanted, "no object came back");
    if (!celHolds(compileCel(params.expr, ["self"]), { self: result.object })) {
      const spec = JSON.stringify((result.object as Record<string, unknown>).spec ?? {});
      return fail(`${what} was accepted, but not as the lab expects`, wanted, `the API server stored spec ${spec}`);
    }
  }
  return passed(
    `the API server accepted ${what}${params.expected ? `; ${params.expected}` : ""}`,
    result.at,
    evidenceOf(objects, []),
  );
}

export const admissionCheck = defineCheck({
  type: "admission",
  ParamsSchema,
  clusterLevel: true,
  probe,
  evaluate,
});
