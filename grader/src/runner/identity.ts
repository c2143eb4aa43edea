import { writeFile } from "node:fs/promises";
import { stringify } from "yaml";
import type { KubeObject } from "../engine/trace.ts";
import type { KubeClient } from "../kube/client.ts";
import { MANAGED_BY_LABELS } from "../labels.ts";
import { PolicyRulesSchema, reviewRole, type PolicyRule } from "./role-review.ts";

/** Names `make deploy` gives the course's operator (namePrefix postgres-operator-, namespace postgres-operator-system). */
export const OPERATOR_NAMESPACE = "postgres-operator-system";
export const OPERATOR_SERVICE_ACCOUNT = "postgres-operator-controller-manager";
export const OPERATOR_ROLE = "postgres-operator-manager-role";

const labels = MANAGED_BY_LABELS;

export interface OperatorIdentity {
  namespace: string;
  serviceAccount: string;
  /** "system:serviceaccount:<ns>:<name>", for SubjectAccessReviews. */
  username: string;
  kubeconfigPath: string;
  /** What the role review left out of the project's role, as the learner should read it. */
  roleFindings: string[];
}

/**
 * Creates the operator's ServiceAccount, its generated ClusterRole (renamed as `make deploy` does)
 * and the binding, then writes a kubeconfig that authenticates as that ServiceAccount only.
 * The role is reviewed first: nothing that would let the operator escalate is ever bound.
 */
export async function createOperatorIdentity(
  admin: KubeClient,
  role: KubeObject,
  kubeconfigPath: string,
  allowed?: PolicyRule[],
): Promise<OperatorIdentity> {
  await admin.apply({ apiVersion: "v1", kind: "Namespace", metadata: { name: OPERATOR_NAMESPACE, labels } });
  await admin.apply({
    apiVersion: "v1",
    kind: "ServiceAccount",
    metadata: { name: OPERATOR_SERVICE_ACCOUNT, namespace: OPERATOR_NAMESPACE, labels },
  });
  const parsed = PolicyRulesSchema.safeParse((role as KubeObject & { rules?: unknown }).rules ?? []);
  if (!parsed.success)
    throw new Error(
      `the project's ClusterRole has invalid rules: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`,
    );
  const review = reviewRole(parsed.data, allowed);
  await admin.apply({
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRole",
    metadata: { name: OPERATOR_ROLE, labels },
    rules: review.rules,
  });
  await admin.apply({
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRoleBinding",
    metadata: { name: "postgres-operator-manager-rolebinding", labels },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: OPERATOR_ROLE },
    subjects: [{ kind: "ServiceAccount", name: OPERATOR_SERVICE_ACCOUNT, namespace: OPERATOR_NAMESPACE }],
  });
  await writeServiceAccountKubeconfig(admin, OPERATOR_NAMESPACE, OPERATOR_SERVICE_ACCOUNT, kubeconfigPath);
  return {
    namespace: OPERATOR_NAMESPACE,
    serviceAccount: OPERATOR_SERVICE_ACCOUNT,
    username: `system:serviceaccount:${OPERATOR_NAMESPACE}:${OPERATOR_SERVICE_ACCOUNT}`,
    kubeconfigPath,
    roleFindings: review.findings,
  };
}

/** Writes a kubeconfig (0600) that authenticates as one ServiceAccount, with a token of a day. */
export async function writeServiceAccountKubeconfig(
  admin: KubeClient,
  namespace: string,
  serviceAccount: string,
  kubeconfigPath: string,
): Promise<void> {
  const token = await admin.request<{ status: { token: string } }>(
    "POST",
    `/api/v1/namespaces/${namespace}/serviceaccounts/${serviceAccount}/token`,
    { body: { apiVersion: "authentication.k8s.io/v1", kind: "TokenRequest", spec: { expirationSeconds: 86_400 } } },
  );
  const cluster = admin.config.getCurrentCluster();
  if (!cluster) throw new Error("the admin kubeconfig has no current cluster");
  const caData =
    cluster.caData ??
    (cluster.caFile ? (await import("node:fs")).readFileSync(cluster.caFile).toString("base64") : undefined);
  const kubeconfig = {
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      {
        name: "grading",
        cluster: {
          server: cluster.server,
          ...(caData ? { "certificate-authority-data": caData } : { "insecure-skip-tls-verify": true }),
        },
      },
    ],
    users: [{ name: serviceAccount, user: { token: token.status.token } }],
    contexts: [{ name: "operator", context: { cluster: "grading", user: serviceAccount } }],
    "current-context": "operator",
  };
  await writeFile(kubeconfigPath, stringify(kubeconfig), { mode: 0o600 });
}
