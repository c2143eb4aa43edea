import type { ProbeRequest } from "../engine/check.ts";
import type { ProbeResult } from "../engine/trace.ts";
import { KubeApiError, type KubeClient } from "./client.ts";

export interface ProbeSubject {
  /** The operator's ServiceAccount user name. */
  username: string;
  groups: string[];
}

export interface ProbeTiming {
  /** How long a probe keeps asking before its answer is final (a fresh binding or CRD needs a moment to be seen). */
  settleMs: number;
  /** The first pause between two asks; each later one doubles, up to a second. */
  firstPauseMs: number;
}

const TIMING: ProbeTiming = { settleMs: 10_000, firstPauseMs: 100 };

/**
 * Server-side apply answers 500 for a field the kind's schema does not declare ("failed to create
 * typed patch object (…): .spec.resources: field not declared in schema"): a verdict on the object
 * that asking again cannot change, like a 422.
 */
function refusedBySchema(e: unknown): boolean {
  return e instanceof KubeApiError && e.status === 500 && /failed to create typed patch object/.test(e.message);
}

/** A 400/422 is the API server's verdict on the object; a 404 (a CRD not served yet), 429, 5xx or a dropped connection is a moment's trouble. */
function transient(e: unknown): boolean {
  if (!(e instanceof KubeApiError)) return true;
  return e.status === 404 || e.status === 429 || e.status >= 500;
}

/**
 * Asks the cluster what a check needs to know: would it admit this object, may the operator do
 * that. Answers that can be out of date are asked again until they settle: the API server's
 * authorizer sees a new RoleBinding, and its REST mapping a new CRD, a moment after they are
 * written, so a denial or a 404 right after is not yet an answer. Only an answer that lasts, or
 * that cannot change (an object refused as invalid), is returned; trouble that lasts throws.
 */
export async function runProbe(
  client: KubeClient,
  request: ProbeRequest,
  subject: ProbeSubject,
  clock: () => number,
  timing: ProbeTiming = TIMING,
): Promise<ProbeResult> {
  const deadline = Date.now() + timing.settleMs;
  let pause = timing.firstPauseMs;
  for (;;) {
    let result: ProbeResult | undefined;
    let trouble: unknown;
    try {
      result = await askOnce(client, request, subject, clock);
    } catch (e) {
      if (!transient(e)) throw e;
      trouble = e;
    }
    const settled = result !== undefined && !(result.kind === "access" && !result.allowed);
    if (settled || Date.now() + pause > deadline) {
      if (result) return result;
      // A kind still not served once everything had time to settle is the project's CRDs' doing.
      if (request.kind === "admission" && trouble instanceof KubeApiError && trouble.status === 404) {
        return {
          kind: "admission",
          at: clock(),
          accepted: false,
          message: `the API server does not serve ${request.manifest.kind} in ${request.manifest.apiVersion}: ${trouble.message}`,
        };
      }
      throw new Error(`${describeRequest(request)}: no answer within ${timing.settleMs / 1000} s`, { cause: trouble });
    }
    await new Promise((r) => setTimeout(r, pause));
    pause = Math.min(pause * 2, 1_000);
  }
}

function describeRequest(request: ProbeRequest): string {
  return request.kind === "admission"
    ? `dry-run apply of ${request.manifest.kind} ${request.manifest.metadata.name}`
    : `access review of ${request.verb} ${request.resource}`;
}

async function askOnce(
  client: KubeClient,
  request: ProbeRequest,
  subject: ProbeSubject,
  clock: () => number,
): Promise<ProbeResult> {
  if (request.kind === "admission") {
    try {
      const object = await client.apply(request.manifest, { dryRun: true });
      return { kind: "admission", at: clock(), accepted: true, message: "accepted", object };
    } catch (e) {
      if (e instanceof KubeApiError && (e.status === 422 || e.status === 400 || refusedBySchema(e)))
        return { kind: "admission", at: clock(), accepted: false, message: e.message };
      throw e;
    }
  }
  const review = await client.request<{ status: { allowed: boolean; reason?: string } }>(
    "POST",
    "/apis/authorization.k8s.io/v1/subjectaccessreviews",
    {
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
    },
  );
  return { kind: "access", at: clock(), allowed: review.status.allowed, reason: review.status.reason ?? "" };
}

export function serviceAccountGroups(namespace: string): string[] {
  return ["system:serviceaccounts", `system:serviceaccounts:${namespace}`, "system:authenticated"];
}
