import { describe, expect, it } from "vitest";
import type { KubeObject } from "../engine/trace.ts";
import { DeployManifestError, planDeployment } from "./deploy-review.ts";
import { exitOf, firstTermination, replicaFailure } from "./manager-pod.ts";

const NS = "postgres-operator-system";
/** namespace null: a cluster-scoped object. */
const obj = (kind: string, name: string, extra: Record<string, unknown> = {}, namespace: string | null = NS): KubeObject =>
  ({ apiVersion: kind.endsWith("Binding") || kind.endsWith("Role") ? "rbac.authorization.k8s.io/v1" : "v1", kind, metadata: { name, ...(namespace ? { namespace } : {}) }, ...extra }) as KubeObject;

const deployment = (containers: object[] = [{ name: "manager", image: "controller:latest", command: ["/manager"], args: ["--leader-elect"] }]): KubeObject =>
  ({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "postgres-operator-controller-manager", namespace: NS },
    spec: { selector: { matchLabels: { "control-plane": "controller-manager" } }, template: { spec: { serviceAccountName: "postgres-operator-controller-manager", containers } } },
  }) as KubeObject;

const sa = { kind: "ServiceAccount", name: "postgres-operator-controller-manager", namespace: NS };
/** What kustomize renders of a stock kubebuilder config/default, in the order it prints it. */
const stock = (): KubeObject[] => [
  obj("Namespace", NS, { metadata: { name: NS, labels: { "control-plane": "controller-manager" } } }, null),
  obj("CustomResourceDefinition", "backups.database.example.com", {}, null),
  obj("ServiceAccount", "postgres-operator-controller-manager"),
  obj("Role", "postgres-operator-leader-election-role", { rules: [{ apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["get", "create", "update"] }] }),
  obj("ClusterRole", "postgres-operator-manager-role", { rules: [{ apiGroups: ["database.example.com"], resources: ["backups"], verbs: ["get", "list", "watch", "update"] }] }, null),
  obj("RoleBinding", "postgres-operator-leader-election-rolebinding", { roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "postgres-operator-leader-election-role" }, subjects: [sa] }),
  obj("ClusterRoleBinding", "postgres-operator-manager-rolebinding", { roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "postgres-operator-manager-role" }, subjects: [sa] }, null),
  obj("Service", "postgres-operator-controller-manager-metrics-service"),
  deployment(),
];
const options = { image: "labgrader.local/operator-abc:123", managerArgs: [], labels: { "app.kubernetes.io/managed-by": "labgrader" } };

describe("planDeployment", () => {
  it("keeps a stock kubebuilder deploy whole, with our image, never pulled, and without the CRDs (installed already)", () => {
    const plan = planDeployment(stock(), options);
    expect(plan.findings).toEqual([]);
    expect(plan.namespace).toBe(NS);
    expect(plan.serviceAccount).toBe("postgres-operator-controller-manager");
    expect(plan.objects.map((o) => o.kind)).toEqual(["Namespace", "ServiceAccount", "ClusterRole", "Role", "ClusterRoleBinding", "RoleBinding", "Service", "Deployment"]);
    const manager = (plan.deployment.spec as { template: { spec: { containers: { image: string; imagePullPolicy: string; args: string[] }[] } } }).template.spec.containers[0]!;
    expect(manager).toMatchObject({ image: options.image, imagePullPolicy: "IfNotPresent", args: ["--leader-elect=false"] });
    expect(plan.objects.every((o) => o.metadata.labels?.["app.kubernetes.io/managed-by"] === "labgrader")).toBe(true);
    expect(plan.objects[0]!.metadata.labels?.["pod-security.kubernetes.io/enforce"]).toBe("baseline");
  });

  it("applies the scaffold's admin roles for people (they grant the operator nothing) without findings, with wildcards still cut", () => {
    const admin = obj("ClusterRole", "postgres-operator-backup-admin-role", { rules: [{ apiGroups: ["database.example.com"], resources: ["backups"], verbs: ["*"] }] }, null);
    const plan = planDeployment([...stock(), admin], options);
    expect(plan.findings).toEqual([]);
    expect(plan.objects.find((o) => o.metadata.name === admin.metadata.name)?.rules).toEqual([]);
  });

  it("appends the grader's manager flags to the Deployment's own", () => {
    const plan = planDeployment(stock(), { ...options, managerArgs: ["--phase-delay=1s"] });
    const manager = (plan.deployment.spec as { template: { spec: { containers: { args: string[] }[] } } }).template.spec.containers[0]!;
    expect(manager.args).toEqual(["--leader-elect=false", "--phase-delay=1s"]);
  });

  it.each([
    {
      name: "a binding of cluster-admin",
      extra: obj("ClusterRoleBinding", "own-it", { roleRef: { kind: "ClusterRole", name: "cluster-admin" }, subjects: [sa] }, null),
      finding: /ClusterRoleBinding own-it binds ClusterRole\/cluster-admin, which is not one of the project's own roles/,
    },
    {
      name: "a binding to another subject",
      extra: obj("ClusterRoleBinding", "share", { roleRef: { kind: "ClusterRole", name: "postgres-operator-manager-role" }, subjects: [{ kind: "Group", name: "system:authenticated" }] }, null),
      finding: /names Group system:authenticated; labgrader binds roles only to the operator's own ServiceAccounts/,
    },
    { name: "a DaemonSet", extra: { apiVersion: "apps/v1", kind: "DaemonSet", metadata: { name: "miner", namespace: NS } } as KubeObject, finding: /DaemonSet postgres-operator-system\/miner: labgrader deploys only/ },
    { name: "an object in kube-system", extra: obj("ConfigMap", "x", {}, "kube-system"), finding: /ConfigMap kube-system\/x is outside the operator's namespace/ },
    {
      name: "a role that escalates",
      extra: obj("ClusterRole", "esc", { rules: [{ apiGroups: ["rbac.authorization.k8s.io"], resources: ["clusterrolebindings"], verbs: ["create"] }] }, null),
      finding: /ClusterRole esc: Your role asks for "create" on clusterrolebindings/,
    },
    { name: "an aggregated role", extra: obj("ClusterRole", "agg", { aggregationRule: { clusterRoleSelectors: [{ matchLabels: { x: "y" } }] }, rules: [] }, null), finding: /aggregates other roles' rules/ },
  ])("leaves out $name and says so", ({ extra, finding }) => {
    // Each extra object is bound to the operator where it is a role: only a bound role's review is a finding.
    const binding = obj("ClusterRoleBinding", "bind-extra", { roleRef: { kind: extra.kind, name: extra.metadata.name }, subjects: [sa] }, null);
    const plan = planDeployment([...stock(), extra, ...(extra.kind === "ClusterRole" ? [binding] : [])], options);
    expect(plan.findings.join("\n")).toMatch(finding);
    const escalates = plan.objects.some((o) => o.kind === "ClusterRoleBinding" && (o as { roleRef?: { name?: string } }).roleRef?.name === "cluster-admin");
    expect(escalates).toBe(false);
    expect(plan.objects.some((o) => o.kind === "DaemonSet" || o.metadata.namespace === "kube-system")).toBe(false);
  });

  it("never lets the operator's namespace be privileged", () => {
    const rendered = stock();
    rendered[0] = obj("Namespace", NS, { metadata: { name: NS, labels: { "pod-security.kubernetes.io/enforce": "privileged" } } }, null);
    const plan = planDeployment(rendered, options);
    expect(plan.objects[0]!.metadata.labels?.["pod-security.kubernetes.io/enforce"]).toBe("baseline");
    expect(plan.findings).toEqual([`Namespace ${NS} asks for Pod Security "privileged"; labgrader enforces at least "baseline" everywhere, so it enforces that.`]);
  });

  it.each([
    { name: "no Deployment", rendered: () => stock().filter((o) => o.kind !== "Deployment"), error: /renders no Deployment/ },
    { name: "no manager container", rendered: () => [...stock().filter((o) => o.kind !== "Deployment"), deployment([{ name: "a" }, { name: "b" }])], error: /no container named "manager"/ },
  ])("refuses manifests with $name", ({ rendered, error }) => {
    expect(() => planDeployment(rendered(), options)).toThrow(DeployManifestError);
    expect(() => planDeployment(rendered(), options)).toThrow(error);
  });
});

describe("the manager pod seen as a process", () => {
  it.each([
    { terminated: { exitCode: 0 }, exit: { code: 0, signal: null } },
    { terminated: { exitCode: 1 }, exit: { code: 1, signal: null } },
    { terminated: { exitCode: 137 }, exit: { code: null, signal: "SIGKILL" } },
    { terminated: { exitCode: 143 }, exit: { code: null, signal: "SIGTERM" } },
  ])("exit code $terminated.exitCode is $exit", ({ terminated, exit }) => {
    expect(exitOf(terminated, 5)).toEqual({ ...exit, at: 5 });
  });

  it("takes the first termination of a restarted container from its last state", () => {
    const pod = { apiVersion: "v1", kind: "Pod", metadata: { name: "p" }, status: { containerStatuses: [{ name: "manager", restartCount: 1, state: { running: {} }, lastState: { terminated: { exitCode: 2 } } }] } } as KubeObject;
    expect(firstTermination(pod, "manager")).toEqual({ exitCode: 2 });
    expect(firstTermination(pod, "other")).toBeUndefined();
  });

  it("reads why no pod could be made from the Deployment's ReplicaFailure condition", () => {
    const refused = { ...deployment(), status: { conditions: [{ type: "ReplicaFailure", status: "True", message: 'pods "x" is forbidden: violates PodSecurity "baseline:latest": privileged' }] } } as KubeObject;
    expect(replicaFailure(refused)).toMatch(/violates PodSecurity/);
    expect(replicaFailure(deployment())).toBeUndefined();
  });
});
