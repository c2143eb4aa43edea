import type { ProbeRequest } from "../engine/check.ts";
import type { ProbeResult } from "../engine/trace.ts";
import { KubeApiError, type KubeClient } from "./client.ts";

export interface ProbeSubject {
  /** The operator's ServiceAccount user name. */
  username: string;
  groups: string[];
}

/** Asks the cluster what a check needs to know: would it admit this object, may the operator do that. */
export async function runProbe(client: KubeClient, request: ProbeRequest, subject: ProbeSubject, clock: () => number): Promise<ProbeResult> {
  if (request.kind === "admission") {
    try {
      const object = await client.apply(request.manifest, { dryRun: true });
      return { kind: "admission", at: clock(), accepted: true, message: "accepted", object };
    } catch (e) {
      // 400/422 are the API server's verdict on the object; anything else is ours to report.
      if (e instanceof KubeApiError && (e.status === 422 || e.status === 400)) return { kind: "admission", at: clock(), accepted: false, message: e.message };
      throw new Error(`while dry-run applying ${request.manifest.kind} ${request.manifest.metadata.name}`, { cause: e });
    }
  }
  const review = await client.request<{ status: { allowed: boolean; reason?: string } }>("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", {
    body: {
      apiVersion: "authorization.k8s.io/v1",
      kind: "SubjectAccessReview",
      spec: {
        user: subject.username,
        groups: subject.groups,
        resourceAttributes: {
          verb: request.verb,
          group: request.group,
          resource: request.resource,
          subresource: request.subresource,
          namespace: request.namespace,
        },
      },
    },
  });
  return { kind: "access", at: clock(), allowed: review.status.allowed, reason: review.status.reason ?? "" };
}

export function serviceAccountGroups(namespace: string): string[] {
  return ["system:serviceaccounts", `system:serviceaccounts:${namespace}`, "system:authenticated"];
}
