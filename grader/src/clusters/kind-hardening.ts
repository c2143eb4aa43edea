import type { KubeObject } from "../engine/trace.ts";
import { KubeApiError, type KubeClient } from "../kube/client.ts";
import { SYSTEM_NAMESPACES } from "./kind-config.ts";
import { MANAGED_BY } from "./provider.ts";

const labels = { "app.kubernetes.io/managed-by": MANAGED_BY };
const ADMISSION = "admissionregistration.k8s.io/v1";

/** A request made by a ServiceAccount that is not one of Kubernetes' own (kube-system, local-path-storage). */
const FOREIGN_SERVICE_ACCOUNT = [
  'request.userInfo.username.startsWith("system:serviceaccount:")',
  ...SYSTEM_NAMESPACES.map((ns) => `!request.userInfo.username.startsWith("system:serviceaccount:${ns}:")`),
].join(" && ");

const policy = (name: string, spec: object): KubeObject[] => [
  { apiVersion: ADMISSION, kind: "ValidatingAdmissionPolicy", metadata: { name, labels }, spec: { failurePolicy: "Fail", ...spec } } as KubeObject,
  { apiVersion: ADMISSION, kind: "ValidatingAdmissionPolicyBinding", metadata: { name, labels }, spec: { policyName: name, validationActions: ["Deny"] } } as KubeObject,
];

/**
 * On kind the learner's pods are real containers on a privileged node, so the cluster itself must
 * keep them in. Pod Security `baseline` is the cluster default (kind-config.ts); these policies
 * close the two ways around it: writing into the exempt system namespaces, and creating or
 * relabelling a namespace as `privileged`. They bind every ServiceAccount but Kubernetes' own.
 */
export function hardeningObjects(): KubeObject[] {
  return [
    ...policy("labgrader-system-namespaces", {
      matchConstraints: {
        resourceRules: [{ apiGroups: ["*"], apiVersions: ["*"], resources: ["*"], operations: ["CREATE", "UPDATE", "DELETE", "CONNECT"], scope: "Namespaced" }],
        namespaceSelector: { matchExpressions: [{ key: "kubernetes.io/metadata.name", operator: "In", values: [...SYSTEM_NAMESPACES] }] },
      },
      matchConditions: [{ name: "foreign-service-account", expression: FOREIGN_SERVICE_ACCOUNT }],
      validations: [{ expression: "false", message: `labgrader: an operator may not write to ${SYSTEM_NAMESPACES.join(" or ")}` }],
    }),
    ...policy("labgrader-namespace-pod-security", {
      matchConstraints: { resourceRules: [{ apiGroups: [""], apiVersions: ["v1"], resources: ["namespaces"], operations: ["CREATE", "UPDATE"] }] },
      matchConditions: [{ name: "foreign-service-account", expression: FOREIGN_SERVICE_ACCOUNT }],
      validations: [
        {
          expression: `!has(object.metadata.labels) || !("pod-security.kubernetes.io/enforce" in object.metadata.labels) || object.metadata.labels["pod-security.kubernetes.io/enforce"] != "privileged"`,
          message: "labgrader: an operator may not make a namespace privileged",
        },
      ],
    }),
  ];
}

const PROBE_SUBJECT = "system:serviceaccount:default:labgrader-probe";

/** Whether the policies already refuse a foreign ServiceAccount (they take a moment to load). */
async function refusesProbe(admin: KubeClient): Promise<boolean> {
  try {
    await admin.request("POST", "/api/v1/namespaces/kube-system/configmaps", {
      query: { dryRun: "All" },
      body: { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "labgrader-probe" } },
      headers: { "Impersonate-User": PROBE_SUBJECT, "Impersonate-Group": "system:masters" },
    });
    return false;
  } catch (e) {
    // A policy denial answers 422 (Invalid), naming the policy's message.
    if (e instanceof KubeApiError && (e.status === 422 || e.status === 403) && /labgrader: an operator may not write/.test(e.message)) return true;
    if (e instanceof KubeApiError && e.status === 409) return false;
    throw e;
  }
}

/**
 * Installs the policies and returns once the API server enforces them. Nothing can be watched for
 * that (a policy's status says it was type-checked, not that admission loaded it), so a dry-run
 * request is tried until it is refused, within a bound.
 */
export async function hardenKindCluster(admin: KubeClient, timeoutMs = 60_000): Promise<void> {
  for (const object of hardeningObjects()) await admin.apply(object);
  const deadline = Date.now() + timeoutMs;
  while (!(await refusesProbe(admin))) {
    if (Date.now() > deadline) throw new Error(`the API server did not enforce labgrader's admission policies within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
