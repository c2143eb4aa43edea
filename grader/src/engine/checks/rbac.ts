import { z } from "zod";
import { defineCheck, type CheckContext, type ProbeRequest, type Verdict } from "../check.ts";
import { emptyEvidence, failed, passed, pending } from "../evidence.ts";

/** Whether the operator's ServiceAccount may do something, by SubjectAccessReview. */
export const ParamsSchema = z.strictObject({
  /** The verb, e.g. watch. */
  verb: z.string().min(1),
  /** The API group; "" for the core group. */
  group: z.string(),
  /** The resource (plural), e.g. backups. */
  resource: z.string().min(1),
  /** A subresource, e.g. status. */
  subresource: z.string().min(1).optional(),
  /** The namespace asked about; cluster-wide when left out. */
  namespace: z.string().min(1).optional(),
  /** The answer required: allowed (true) or denied (false). */
  allowed: z.boolean().default(true),
});
export type Params = z.infer<typeof ParamsSchema>;

function request(params: Params): string {
  const resource = `${params.resource}${params.subresource ? `/${params.subresource}` : ""}`;
  const group = params.group === "" ? "" : `.${params.group}`;
  return `${params.verb} ${resource}${group}${params.namespace ? ` in namespace ${params.namespace}` : " cluster-wide"}`;
}

export function probe(params: Params): ProbeRequest {
  return {
    kind: "access",
    verb: params.verb,
    group: params.group,
    resource: params.resource,
    ...(params.subresource ? { subresource: params.subresource } : {}),
    ...(params.namespace ? { namespace: params.namespace } : {}),
  };
}

export function evaluate(params: Params, ctx: CheckContext): Verdict {
  const result = ctx.probe;
  const what = request(params);
  if (!result || result.kind !== "access") {
    if (!ctx.final) return pending();
    return failed({
      message: `the access review for "${what}" did not happen`,
      expected: "an access review result",
      actual: "no result was recorded",
      decidedAt: ctx.now,
      evidence: emptyEvidence,
    });
  }
  const says = (allowed: boolean) => `the operator's ServiceAccount ${allowed ? "may" : "may not"} ${what}`;
  const reason = result.reason ? ` (${result.reason})` : "";
  if (result.allowed === params.allowed) return passed(`${says(result.allowed)}${reason}`, result.at, emptyEvidence);
  return failed({
    message: params.allowed
      ? `the operator is not allowed to ${what}: check its +kubebuilder:rbac markers`
      : `the operator is allowed more than it should: ${what}`,
    expected: says(params.allowed),
    actual: `${says(result.allowed)}${reason}`,
    decidedAt: result.at,
    evidence: emptyEvidence,
  });
}

export const rbacCheck = defineCheck({
  type: "rbac",
  ParamsSchema,
  clusterLevel: true,
  probe,
  evaluate,
});
