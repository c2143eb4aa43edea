import { POD_SECURITY_ENFORCE } from "../engine/lab.ts";
import type { KubeObject } from "../engine/trace.ts";
import { KubeApiError, type KubeClient } from "../kube/client.ts";
import { MANAGED_BY_LABELS } from "../labels.ts";
import { SYSTEM_NAMESPACES } from "./kind-config.ts";

const labels = MANAGED_BY_LABELS;
const ADMISSION = "admissionregistration.k8s.io/v1";

/**
 * The ServiceAccounts kube-controller-manager acts as in kube-system (kubeadm runs it with
 * --use-service-account-credentials): one per controller, as Kubernetes' bootstrap RBAC policy
 * names them (plugin/pkg/auth/authorizer/rbac/bootstrappolicy, v1.36), and those of its leader
 * election and kube-system Roles.
 */
export const CONTROLLER_SERVICE_ACCOUNTS = [
  "attachdetach-controller",
  "bootstrap-signer",
  "certificate-controller",
  "cloud-provider",
  "clusterrole-aggregation-controller",
  "cronjob-controller",
  "daemon-set-controller",
  "deployment-controller",
  "device-taint-eviction-controller",
  "disruption-controller",
  "endpoint-controller",
  "endpointslice-controller",
  "endpointslicemirroring-controller",
  "ephemeral-volume-controller",
  "expand-controller",
  "generic-garbage-collector",
  "horizontal-pod-autoscaler",
  "job-controller",
  "kube-apiserver-serving-clustertrustbundle-publisher",
  "kube-controller-manager",
  "leader-election-controller",
  "legacy-service-account-token-cleaner",
  "namespace-controller",
  "node-controller",
  "persistent-volume-binder",
  "pod-garbage-collector",
  "podcertificaterequestcleaner",
  "podgroup-protection-controller",
  "pv-protection-controller",
  "pvc-protection-controller",
  "replicaset-controller",
  "replication-controller",
  "resource-claim-controller",
  "resourcepoolstatusrequest-controller",
  "resourcequota-controller",
  "root-ca-cert-publisher",
  "route-controller",
  "selinux-warning-controller",
  "service-account-controller",
  "service-cidrs-controller",
  "service-controller",
  "statefulset-controller",
  "storage-version-garbage-collector",
  "storage-version-migrator-controller",
  "token-cleaner",
  "ttl-after-finished-controller",
  "ttl-controller",
  "validatingadmissionpolicy-status-controller",
  "volumeattributesclass-protection-controller",
] as const;

/**
 * Who may write to the system namespaces: Kubernetes' own components by name, never "any
 * ServiceAccount of kube-system" (a pod there could run as any of them) and never an administrator
 * (labgrader's own client applies a project's manifests). The kubelets create their static pods'
 * mirrors and report pod status; kind's local-path provisioner makes its helper pods.
 */
export const TRUSTED_USERNAMES = [
  "system:apiserver",
  "system:kube-controller-manager",
  "system:kube-scheduler",
  ...CONTROLLER_SERVICE_ACCOUNTS.map((sa) => `system:serviceaccount:kube-system:${sa}`),
  "system:serviceaccount:kube-system:kube-scheduler",
  "system:serviceaccount:local-path-storage:local-path-provisioner-service-account",
];

/** A request made by anyone but those: the condition under which the policies apply. */
const UNTRUSTED = [
  `!(request.userInfo.username in ${JSON.stringify(TRUSTED_USERNAMES)})`,
  `!(request.userInfo.username.startsWith("system:node:") && has(request.userInfo.groups) && "system:nodes" in request.userInfo.groups)`,
].join(" && ");

const policy = (name: string, spec: object): KubeObject[] => [
  {
    apiVersion: ADMISSION,
    kind: "ValidatingAdmissionPolicy",
    metadata: { name, labels },
    spec: { failurePolicy: "Fail", ...spec },
  } as KubeObject,
  {
    apiVersion: ADMISSION,
    kind: "ValidatingAdmissionPolicyBinding",
    metadata: { name, labels },
    spec: { policyName: name, validationActions: ["Deny"] },
  } as KubeObject,
];

/**
 * On kind the learner's pods are real containers on a privileged node, so the cluster itself must
 * keep them in, whatever labgrader's own review of the manifests missed. Pod Security `baseline` is
 * the cluster default (kind-config.ts); these policies close the two ways around it: writing into
 * the exempt system namespaces (any resource or subresource: pods/exec, pods/ephemeralcontainers,
 * serviceaccounts/token… — "*" alone would match no subresource), and creating or relabelling a
 * namespace as `privileged`. They bind everyone but Kubernetes' own components.
 */
export function hardeningObjects(): KubeObject[] {
  return [
    ...policy("labgrader-system-namespaces", {
      matchConstraints: {
        // "*/*" is every resource and every subresource; the API server refuses it beside any other entry.
        resourceRules: [
          {
            apiGroups: ["*"],
            apiVersions: ["*"],
            resources: ["*/*"],
            operations: ["CREATE", "UPDATE", "DELETE", "CONNECT"],
            scope: "Namespaced",
          },
        ],
        namespaceSelector: {
          matchExpressions: [{ key: "kubernetes.io/metadata.name", operator: "In", values: [...SYSTEM_NAMESPACES] }],
        },
      },
      matchConditions: [{ name: "not-kubernetes-itself", expression: UNTRUSTED }],
      validations: [
        { expression: "false", message: `labgrader: an operator may not write to ${SYSTEM_NAMESPACES.join(" or ")}` },
      ],
    }),
    ...policy("labgrader-namespace-pod-security", {
      matchConstraints: {
        resourceRules: [
          { apiGroups: [""], apiVersions: ["v1"], resources: ["namespaces"], operations: ["CREATE", "UPDATE"] },
        ],
      },
      matchConditions: [{ name: "not-kubernetes-itself", expression: UNTRUSTED }],
      validations: [
        {
          expression: `!has(object.metadata.labels) || !("${POD_SECURITY_ENFORCE}" in object.metadata.labels) || object.metadata.labels["${POD_SECURITY_ENFORCE}"] != "privileged"`,
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
    if (
      e instanceof KubeApiError &&
      (e.status === 422 || e.status === 403) &&
      /labgrader: an operator may not write/.test(e.message)
    )
      return true;
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
    if (Date.now() > deadline)
      throw new Error(`the API server did not enforce labgrader's admission policies within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
