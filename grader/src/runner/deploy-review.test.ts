import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import type { KubeObject } from "../engine/trace.ts";
import { DeployManifestError } from "./deploy-error.ts";
import { MAX_REPLICAS } from "./deploy-pod-review.ts";
import { planDeployment, type DeployReviewOptions } from "./deploy-review.ts";
import { exitCodeOf, exitOf, firstTermination, replicaFailure } from "./manager-pod.ts";

const NS = "postgres-operator-system";
const PREFIX = "postgres-operator-";
/** namespace null: a cluster-scoped object. */
const obj = (
  kind: string,
  name: string,
  extra: Record<string, unknown> = {},
  namespace: string | null = NS,
): KubeObject =>
  ({
    apiVersion: kind.endsWith("Binding") || kind.endsWith("Role") ? "rbac.authorization.k8s.io/v1" : "v1",
    kind,
    metadata: { name, ...(namespace ? { namespace } : {}) },
    ...extra,
  }) as KubeObject;

type Pod = {
  containers: Record<string, unknown>[];
  initContainers?: Record<string, unknown>[];
  securityContext?: Record<string, unknown>;
  [field: string]: unknown;
};
type Deployment = KubeObject & {
  spec: { replicas?: number; template: { metadata?: Record<string, unknown>; spec: Pod } };
};
const podOf = (d: KubeObject) => (d as Deployment).spec.template.spec;

/**
 * The reference operator's manager Deployment as kustomize renders config/default: its own
 * config/manager/manager.yaml with the scaffold's namespace, namePrefix and metrics patch.
 */
function referenceDeployment(asWritten = false): Deployment {
  const file = join(import.meta.dirname, "../../../operator/config/manager/manager.yaml");
  const docs = parseAllDocuments(readFileSync(file, "utf8")).map((d) => d.toJS() as Deployment);
  const d = structuredClone(docs.find((o) => o.kind === "Deployment")!);
  // The reference runs three managers (Lab 7.3); the other rewrites are tested on one, whose review says nothing of replicas.
  if (!asWritten) d.spec.replicas = 1;
  d.metadata = { ...d.metadata, name: PREFIX + d.metadata.name, namespace: NS };
  const pod = d.spec.template.spec;
  pod.serviceAccountName = PREFIX + String(pod.serviceAccountName);
  (pod.containers[0]!.args as string[]).unshift("--metrics-bind-address=:8443");
  return d;
}

const sa = { kind: "ServiceAccount", name: `${PREFIX}controller-manager`, namespace: NS };
/** What kustomize renders of a stock kubebuilder config/default, in the order it prints it. */
const stock = (deployment: KubeObject = referenceDeployment()): KubeObject[] => [
  obj("Namespace", NS, { metadata: { name: NS, labels: { "control-plane": "controller-manager" } } }, null),
  obj("CustomResourceDefinition", "backups.database.example.com", {}, null),
  obj("ServiceAccount", `${PREFIX}controller-manager`),
  obj("Role", `${PREFIX}leader-election-role`, {
    rules: [{ apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["get", "create", "update"] }],
  }),
  obj(
    "ClusterRole",
    `${PREFIX}manager-role`,
    {
      rules: [
        { apiGroups: ["database.example.com"], resources: ["backups"], verbs: ["get", "list", "watch", "update"] },
      ],
    },
    null,
  ),
  obj("RoleBinding", `${PREFIX}leader-election-rolebinding`, {
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: `${PREFIX}leader-election-role` },
    subjects: [sa],
  }),
  obj(
    "ClusterRoleBinding",
    `${PREFIX}manager-rolebinding`,
    {
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: `${PREFIX}manager-role` },
      subjects: [sa],
    },
    null,
  ),
  obj("Service", `${PREFIX}controller-manager-metrics-service`, {
    spec: { ports: [{ name: "https", port: 8443, targetPort: 8443 }] },
  }),
  deployment,
];
const options: DeployReviewOptions = {
  image: "labgrader.local/operator-abc:123",
  managerArgs: [],
  labels: { "app.kubernetes.io/managed-by": "labgrader" },
};

/** The reference Deployment changed by `change`: a hostile variant of the manager. */
function hostile(change: (d: Deployment) => void): KubeObject[] {
  const d = referenceDeployment();
  change(d);
  return stock(d);
}

describe("planDeployment", () => {
  it("keeps the reference operator's config/default whole, changed only by labgrader's rewrites", () => {
    const input = referenceDeployment(true);
    const plan = planDeployment(stock(input), options);
    // The reference runs three managers (Lab 7.3); a lab about one operator grades one.
    expect(plan.findings).toEqual([
      `Deployment ${NS}/${PREFIX}controller-manager asks for 3 replicas; labgrader runs one manager.`,
    ]);
    expect(plan.namespace).toBe(NS);
    expect(plan.serviceAccount).toBe(`${PREFIX}controller-manager`);
    expect(plan.container).toBe("manager");
    expect(plan.objects.map((o) => o.kind)).toEqual([
      "Namespace",
      "ServiceAccount",
      "ClusterRole",
      "Role",
      "ClusterRoleBinding",
      "RoleBinding",
      "Service",
      "Deployment",
    ]);
    const expected = structuredClone(input);
    expected.metadata.labels = { ...expected.metadata.labels, ...options.labels };
    Object.assign(podOf(expected).containers[0]!, {
      image: options.image,
      imagePullPolicy: "IfNotPresent",
      args: ["--metrics-bind-address=:8443", "--leader-elect=false", "--health-probe-bind-address=:8081"],
    });
    podOf(expected).securityContext!.runAsUser = 65532;
    expected.spec.replicas = 1;
    expect(plan.deployment).toEqual(expected);
    expect(plan.objects.every((o) => o.metadata.labels?.["app.kubernetes.io/managed-by"] === "labgrader")).toBe(true);
  });

  it("keeps the replicas, leader election and PodDisruptionBudget of a project for a lab about several managers", () => {
    const pdb = {
      apiVersion: "policy/v1",
      kind: "PodDisruptionBudget",
      metadata: { name: `${PREFIX}controller-manager-pdb`, namespace: NS },
      spec: { minAvailable: 2, selector: { matchLabels: { "control-plane": "controller-manager" } } },
    } as KubeObject;
    const elsewhere = { ...pdb, metadata: { name: "other-pdb", namespace: "default" } } as KubeObject;
    const plan = planDeployment([...stock(referenceDeployment(true)), pdb, elsewhere], {
      ...options,
      keepReplicas: true,
    });
    expect(plan.findings).toEqual([
      `PodDisruptionBudget default/other-pdb is outside the operator's namespace ${NS}; labgrader creates nothing there, so it was left out.`,
    ]);
    expect(plan.objects.map((o) => o.kind).slice(-2)).toEqual(["PodDisruptionBudget", "Deployment"]);
    expect((plan.deployment as Deployment).spec.replicas).toBe(3);
    expect(podOf(plan.deployment).containers[0]!.args).toEqual([
      "--metrics-bind-address=:8443",
      "--leader-elect",
      "--health-probe-bind-address=:8081",
    ]);
    const many = planDeployment(
      hostile((d) => (d.spec.replicas = 40)),
      { ...options, keepReplicas: true },
    );
    expect((many.deployment as Deployment).spec.replicas).toBe(MAX_REPLICAS);
    expect(many.findings).toEqual([
      `Deployment ${NS}/${PREFIX}controller-manager asks for 40 replicas; labgrader runs ${MAX_REPLICAS} managers at most.`,
    ]);
    expect(() =>
      planDeployment(
        hostile((d) => Object.assign(d.spec, { replicas: "3" })),
        { ...options, keepReplicas: true },
      ),
    ).toThrow(/asks for "3" replicas, which is not a whole number/);
  });

  it("creates the operator's namespace enforcing the lab's Pod Security, restricted unless the lab says baseline", () => {
    const level = (o: DeployReviewOptions) =>
      planDeployment(stock(), o).objects[0]!.metadata.labels?.["pod-security.kubernetes.io/enforce"];
    expect(level(options)).toBe("restricted");
    expect(level({ ...options, podSecurity: "baseline" })).toBe("baseline");
  });

  it.each([
    {
      asked: "privileged",
      lab: "baseline",
      enforced: "baseline",
      finding: `Namespace ${NS} asks for Pod Security "privileged"; labgrader enforces "baseline" in it.`,
    },
    {
      asked: "baseline",
      lab: "restricted",
      enforced: "restricted",
      finding: `Namespace ${NS} asks for Pod Security "baseline"; labgrader enforces "restricted" in it.`,
    },
    { asked: "restricted", lab: "baseline", enforced: "restricted", finding: undefined },
  ] as const)("a namespace asking for $asked in a $lab lab enforces $enforced", ({ asked, lab, enforced, finding }) => {
    const rendered = stock();
    rendered[0] = obj(
      "Namespace",
      NS,
      {
        metadata: {
          name: NS,
          labels: { "pod-security.kubernetes.io/enforce": asked, "pod-security.kubernetes.io/enforce-version": "v1.0" },
        },
      },
      null,
    );
    const plan = planDeployment(rendered, { ...options, podSecurity: lab });
    expect(plan.objects[0]!.metadata.labels).toEqual({
      "pod-security.kubernetes.io/enforce": enforced,
      ...options.labels,
    });
    expect(plan.findings).toEqual(finding ? [finding] : []);
  });

  it("applies the scaffold's admin roles for people (they grant the operator nothing) without findings, with wildcards still cut", () => {
    const admin = obj(
      "ClusterRole",
      `${PREFIX}backup-admin-role`,
      { rules: [{ apiGroups: ["database.example.com"], resources: ["backups"], verbs: ["*"] }] },
      null,
    );
    const plan = planDeployment([...stock(), admin], options);
    expect(plan.findings).toEqual([]);
    expect(plan.objects.find((o) => o.metadata.name === admin.metadata.name)?.rules).toEqual([]);
  });

  it("binds a role only within the lab's allow-list", () => {
    const allowed = [{ apiGroups: ["database.example.com"], resources: ["backups"], verbs: ["get", "list", "watch"] }];
    const plan = planDeployment(stock(), { ...options, allowed });
    expect(plan.objects.find((o) => o.metadata.name === `${PREFIX}manager-role`)?.rules).toEqual([
      { apiGroups: ["database.example.com"], resources: ["backups"], verbs: ["get", "list", "watch"] },
    ]);
    expect(plan.findings.join("\n")).toMatch(
      /ClusterRole postgres-operator-manager-role: Your role asks for "update" on backups \(database.example.com\); an operator of this lab needs no such permission/,
    );
  });

  it("appends the grader's manager flags to the Deployment's own", () => {
    const plan = planDeployment(stock(), { ...options, managerArgs: ["--phase-delay=1s"] });
    expect(podOf(plan.deployment).containers[0]!.args).toEqual([
      "--metrics-bind-address=:8443",
      "--leader-elect=false",
      "--health-probe-bind-address=:8081",
      "--phase-delay=1s",
    ]);
  });

  it("puts a namespaced object that names no namespace into the operator's", () => {
    const plan = planDeployment([...stock(), obj("ConfigMap", "settings", { data: { a: "b" } }, null)], options);
    expect(plan.objects.find((o) => o.metadata.name === "settings")?.metadata.namespace).toBe(NS);
    expect(plan.findings).toEqual([]);
  });

  const aggregated = obj(
    "ClusterRole",
    "system:basic-user",
    { aggregationRule: { clusterRoleSelectors: [{ matchLabels: { x: "y" } }] }, rules: [] },
    null,
  );
  it.each([
    {
      name: "a binding of cluster-admin",
      extra: [
        obj(
          "ClusterRoleBinding",
          "own-it",
          { roleRef: { kind: "ClusterRole", name: "cluster-admin" }, subjects: [sa] },
          null,
        ),
      ],
      finding:
        /ClusterRoleBinding own-it binds ClusterRole\/cluster-admin, which is not one of the project's own roles/,
    },
    {
      name: "a binding to another subject",
      extra: [
        obj(
          "ClusterRoleBinding",
          "share",
          {
            roleRef: { kind: "ClusterRole", name: `${PREFIX}manager-role` },
            subjects: [{ kind: "Group", name: "system:authenticated" }],
          },
          null,
        ),
      ],
      finding:
        /names Group system:authenticated; labgrader binds roles only to the ServiceAccounts the project creates in postgres-operator-system/,
    },
    {
      name: "a binding to the namespace's default ServiceAccount",
      extra: [
        obj("RoleBinding", "to-default", {
          roleRef: { kind: "Role", name: `${PREFIX}leader-election-role` },
          subjects: [{ kind: "ServiceAccount", name: "default", namespace: NS }],
        }),
      ],
      finding:
        /RoleBinding postgres-operator-system\/to-default names ServiceAccount postgres-operator-system\/default; labgrader binds roles only to the ServiceAccounts the project creates/,
    },
    {
      name: "a DaemonSet",
      extra: [{ apiVersion: "apps/v1", kind: "DaemonSet", metadata: { name: "miner", namespace: NS } } as KubeObject],
      finding: /DaemonSet postgres-operator-system\/miner: labgrader deploys only/,
    },
    {
      name: "an object in kube-system",
      extra: [obj("ConfigMap", "coredns", {}, "kube-system")],
      finding:
        /ConfigMap kube-system\/coredns is outside the operator's namespace postgres-operator-system; labgrader creates nothing there/,
    },
    {
      name: "a Service in default",
      extra: [obj("Service", "kubernetes", {}, "default")],
      finding: /Service default\/kubernetes is outside the operator's namespace/,
    },
    {
      name: "another Namespace",
      extra: [obj("Namespace", "kube-system", {}, null)],
      finding:
        /Namespace kube-system is not the operator's namespace postgres-operator-system; labgrader creates only that one/,
    },
    {
      name: "the namespace's default ServiceAccount",
      extra: [obj("ServiceAccount", "default")],
      finding: /ServiceAccount postgres-operator-system\/default is made by Kubernetes in every namespace/,
    },
    {
      name: "a role that escalates",
      extra: [
        obj(
          "ClusterRole",
          "esc",
          {
            rules: [
              { apiGroups: ["rbac.authorization.k8s.io"], resources: ["clusterrolebindings"], verbs: ["create"] },
            ],
          },
          null,
        ),
        obj("ClusterRoleBinding", "bind-esc", { roleRef: { kind: "ClusterRole", name: "esc" }, subjects: [sa] }, null),
      ],
      finding: /ClusterRole esc: Your role asks for "create" on clusterrolebindings/,
      added: ["ClusterRole esc", "ClusterRoleBinding bind-esc"],
    },
    {
      name: "an aggregated role",
      extra: [
        obj(
          "ClusterRole",
          "agg",
          { aggregationRule: { clusterRoleSelectors: [{ matchLabels: { x: "y" } }] }, rules: [] },
          null,
        ),
        obj("ClusterRoleBinding", "bind-agg", { roleRef: { kind: "ClusterRole", name: "agg" }, subjects: [sa] }, null),
      ],
      finding: /ClusterRole agg aggregates other roles' rules/,
      added: ["ClusterRole agg", "ClusterRoleBinding bind-agg"],
    },
    {
      name: "an aggregated role named system:basic-user, and its binding",
      extra: [
        aggregated,
        obj(
          "ClusterRoleBinding",
          "bind-basic",
          { roleRef: { kind: "ClusterRole", name: "system:basic-user" }, subjects: [sa] },
          null,
        ),
      ],
      finding:
        /ClusterRole system:basic-user has a name reserved for Kubernetes itself[^]*ClusterRoleBinding bind-basic binds ClusterRole\/system:basic-user, which is not one of the project's own roles/,
    },
    {
      name: "a system: ConfigMap",
      extra: [obj("ConfigMap", "system:x")],
      finding: /ConfigMap postgres-operator-system\/system:x has a name reserved for Kubernetes itself/,
    },
  ])("leaves out $name and says so", ({ extra, finding, added = [] }) => {
    const plan = planDeployment([...stock(), ...extra], options);
    expect(plan.findings.join("\n")).toMatch(finding);
    // What is created beyond the stock plan: only the project's own roles (their rules cut) and bindings of them.
    const names = (o: KubeObject) => `${o.kind} ${o.metadata.name}`;
    const stockNames = planDeployment(stock(), options).objects.map(names);
    expect(plan.objects.map(names).filter((n) => !stockNames.includes(n))).toEqual(added);
    expect(plan.objects.some((o) => o.metadata.namespace !== undefined && o.metadata.namespace !== NS)).toBe(false);
    expect(plan.objects.some((o) => "aggregationRule" in o || o.metadata.name.startsWith("system:"))).toBe(false);
  });

  it("drops aggregation from a role bound to nothing too", () => {
    const plan = planDeployment(
      [
        ...stock(),
        obj(
          "ClusterRole",
          "agg",
          { aggregationRule: { clusterRoleSelectors: [{ matchLabels: { x: "y" } }] }, rules: [] },
          null,
        ),
      ],
      options,
    );
    expect(plan.objects.find((o) => o.metadata.name === "agg")).toEqual(
      expect.not.objectContaining({ aggregationRule: expect.anything() }),
    );
  });

  it.each([
    {
      type: "NodePort",
      extra: {},
      finding: /is of type NodePort; labgrader opens no port on the node, so it is a ClusterIP Service/,
    },
    {
      type: "ClusterIP",
      extra: { externalIPs: ["10.96.0.1"] },
      finding: /claims the external IPs 10.96.0.1; labgrader lets no Service capture other addresses' traffic/,
    },
  ])("makes a $type Service with $extra a plain ClusterIP one", ({ type, extra, finding }) => {
    const service = obj("Service", "open", { spec: { type, ...extra, ports: [{ port: 80, nodePort: 30080 }] } });
    const plan = planDeployment([...stock(), service], options);
    expect(plan.findings.join("\n")).toMatch(finding);
    const spec = (
      plan.objects.find((o) => o.metadata.name === "open") as KubeObject & { spec: Record<string, unknown> }
    ).spec;
    expect(spec.type).toBe("ClusterIP");
    expect(spec.externalIPs).toBeUndefined();
    if (type === "NodePort") expect(spec.ports).toEqual([{ port: 80 }]);
  });
});

describe("the manager's pod", () => {
  const where = `Deployment ${NS}/${PREFIX}controller-manager`;
  it.each([
    {
      name: "a privileged manager",
      change: (d: Deployment) =>
        Object.assign(podOf(d).containers[0]!, {
          securityContext: {
            privileged: true,
            allowPrivilegeEscalation: true,
            capabilities: { add: ["SYS_ADMIN"] },
            runAsUser: 0,
            runAsNonRoot: false,
            seccompProfile: { type: "Unconfined" },
          },
        }),
      findings: [
        `${where} asks to run the manager privileged; labgrader never does, so it runs unprivileged.`,
        `${where} lets the manager gain privileges (allowPrivilegeEscalation: true); labgrader sets it to false.`,
        `${where} adds the capabilities SYS_ADMIN; labgrader drops every capability (drop: ALL), so they were left out.`,
        `${where} runs the manager container as root (runAsUser: 0); labgrader runs it as uid 65532, as its image does.`,
        `${where} sets runAsNonRoot: false on the manager container; labgrader runs it as a non-root user only.`,
        `${where} asks for the seccomp profile Unconfined for the manager container; labgrader runs it with the runtime's default profile (RuntimeDefault).`,
      ],
      check: (pod: Pod) =>
        expect(pod.containers[0]!.securityContext).toEqual({
          allowPrivilegeEscalation: false,
          capabilities: { drop: ["ALL"] },
        }),
    },
    {
      name: "a root pod with an unconfined profile and sysctls",
      change: (d: Deployment) =>
        (podOf(d).securityContext = {
          runAsNonRoot: false,
          runAsUser: 0,
          seccompProfile: { type: "Unconfined" },
          sysctls: [{ name: "net.ipv4.ip_unprivileged_port_start", value: "0" }],
        }),
      findings: [
        `${where} sets runAsNonRoot: false; labgrader runs the manager as a non-root user only, so it is true.`,
        `${where} runs the manager as root (runAsUser: 0); labgrader runs it as uid 65532, as its image does.`,
        `${where} asks for the seccomp profile Unconfined; labgrader runs the manager with the runtime's default profile (RuntimeDefault).`,
        `${where}: the pod's securityContext.sysctls was left out; labgrader does not let the manager change its kernel settings or security labels.`,
      ],
      check: (pod: Pod) =>
        expect(pod.securityContext).toEqual({
          runAsNonRoot: true,
          runAsUser: 65532,
          seccompProfile: { type: "RuntimeDefault" },
        }),
    },
    {
      name: "the node's namespaces",
      change: (d: Deployment) => Object.assign(podOf(d), { hostNetwork: true, hostPID: true, hostIPC: true }),
      findings: ["hostNetwork", "hostPID", "hostIPC"].map(
        (f) =>
          `${where} asks for ${f}: true; labgrader never lets the manager share the node's namespaces, so it was left out.`,
      ),
      check: (pod: Pod) => expect(Object.keys(pod).filter((k) => k.startsWith("host"))).toEqual([]),
    },
    {
      name: "extra and init containers",
      change: (d: Deployment) => {
        podOf(d).containers.push({ name: "miner", image: "evil:latest", securityContext: { privileged: true } });
        podOf(d).initContainers = [{ name: "setup", image: "evil:latest" }];
      },
      findings: [
        `${where}: the container "miner" was left out; labgrader runs the manager alone, in one container with the image it built.`,
        `${where}: the init container "setup" was left out; labgrader runs the manager alone, in one container with the image it built.`,
      ],
      check: (pod: Pod) => {
        expect(pod.containers.map((c) => [c.name, c.image])).toEqual([["manager", options.image]]);
        expect(pod.initContainers).toBeUndefined();
      },
    },
    {
      name: "a node port and a probe of another host",
      change: (d: Deployment) => {
        const manager = podOf(d).containers[0]!;
        manager.ports = [{ containerPort: 8443, hostPort: 6443 }];
        (manager.livenessProbe as { httpGet: Record<string, unknown> }).httpGet.host = "169.254.169.254";
      },
      findings: [
        `${where}: the manager's port 8443 asks for a port on the node (hostPort); labgrader opens no node port, so it was left out.`,
        `${where}: the manager's livenessProbe names the host 169.254.169.254; the kubelet would connect there from the node, so labgrader probes the pod itself.`,
      ],
      check: (pod: Pod) => {
        expect(pod.containers[0]!.ports).toEqual([{ containerPort: 8443 }]);
        expect(pod.containers[0]!.livenessProbe).toEqual({
          httpGet: { path: "/healthz", port: 8081 },
          initialDelaySeconds: 15,
          periodSeconds: 20,
        });
      },
    },
    {
      name: "a runtime class, a priority class, a node name, several replicas and a long grace period",
      change: (d: Deployment) => {
        Object.assign(podOf(d), {
          runtimeClassName: "runc-privileged",
          priorityClassName: "system-node-critical",
          nodeName: "kind-control-plane",
          terminationGracePeriodSeconds: 3600,
        });
        d.spec.replicas = 3;
      },
      findings: [
        `${where} gives the manager 3600 s to stop; labgrader waits 30 s at most.`,
        ...["runtimeClassName", "priorityClassName", "nodeName"].map(
          (f) =>
            `${where}: spec.template.spec.${f} was left out; labgrader keeps only the manager's container, volumes, security context, ServiceAccount and scheduling settings.`,
        ),
        `${where} asks for 3 replicas; labgrader runs one manager.`,
      ],
      check: (pod: Pod) => expect(pod).toEqual(expect.objectContaining({ terminationGracePeriodSeconds: 30 })),
    },
  ])("rewrites $name to the safe value and says so", ({ change, findings, check }) => {
    const plan = planDeployment(hostile(change), options);
    expect(plan.findings.sort()).toEqual([...findings].sort());
    check(podOf(plan.deployment));
    expect((plan.deployment as Deployment).spec.replicas).toBe(1);
  });

  it.each([
    {
      name: "a manager in kube-system",
      change: (d: Deployment) => (d.metadata.namespace = "kube-system"),
      error: /puts the manager in the namespace kube-system, which belongs to the cluster/,
    },
    {
      name: "a manager in default",
      change: (d: Deployment) => (d.metadata.namespace = "default"),
      error: /puts the manager in the namespace default, which belongs to the cluster/,
    },
    {
      name: "a manager in local-path-storage",
      change: (d: Deployment) => (d.metadata.namespace = "local-path-storage"),
      error: /namespace local-path-storage, which belongs to the cluster/,
    },
    {
      name: "a manager in no namespace",
      change: (d: Deployment) => delete d.metadata.namespace,
      error: /names no namespace; set `namespace:` in config\/default\/kustomization.yaml/,
    },
    {
      name: "a hostPath volume",
      change: (d: Deployment) => Object.assign(podOf(d), { volumes: [{ name: "root", hostPath: { path: "/" } }] }),
      error:
        /mounts a hostPath volume \("root"\); labgrader runs the manager with only emptyDir, configMap, secret, projected, downwardAPI volumes/,
    },
    {
      name: "a claimed volume",
      change: (d: Deployment) =>
        Object.assign(podOf(d), { volumes: [{ name: "data", persistentVolumeClaim: { claimName: "x" } }] }),
      error: /mounts a persistentVolumeClaim volume/,
    },
    {
      name: "a projected pod certificate",
      change: (d: Deployment) =>
        Object.assign(podOf(d), {
          volumes: [{ name: "cert", projected: { sources: [{ podCertificate: { signerName: "x" } }] } }],
        }),
      error: /projects a podCertificate into the volume "cert"/,
    },
    {
      name: "another namespace's ServiceAccount",
      change: (d: Deployment) => (podOf(d).serviceAccountName = "kube-proxy"),
      error:
        /runs its manager as the ServiceAccount "kube-proxy", which config\/default does not create in postgres-operator-system/,
    },
    {
      name: "the default ServiceAccount",
      change: (d: Deployment) => delete podOf(d).serviceAccountName,
      error: /names no ServiceAccount of the project's own/,
    },
    {
      name: "no manager container",
      change: (d: Deployment) => (podOf(d).containers = [{ name: "a" }, { name: "b" }]),
      error: /no container named "manager"/,
    },
    {
      name: "a system: name",
      change: (d: Deployment) => (d.metadata.name = "system:controller"),
      error: /renders no Deployment/,
    },
  ])("refuses $name", ({ change, error }) => {
    const rendered = hostile(change);
    expect(() => planDeployment(rendered, options)).toThrow(DeployManifestError);
    expect(() => planDeployment(rendered, options)).toThrow(error);
  });

  it("names, with a refusal, what it had already found: a manager in kube-system beside a role named system:basic-user", () => {
    const rendered = [
      ...hostile((d) => (d.metadata.namespace = "kube-system")),
      obj(
        "ClusterRole",
        "system:basic-user",
        { aggregationRule: { clusterRoleSelectors: [{ matchLabels: { x: "y" } }] } },
        null,
      ),
    ];
    expect(() => planDeployment(rendered, options)).toThrow(
      /puts the manager in the namespace kube-system, which belongs to the cluster[^]*\nAlso:\nClusterRole system:basic-user has a name reserved for Kubernetes itself/,
    );
  });

  it("refuses manifests with no Deployment", () => {
    expect(() =>
      planDeployment(
        stock().filter((o) => o.kind !== "Deployment"),
        options,
      ),
    ).toThrow(/renders no Deployment/);
  });

  it("keeps the volumes a manager may have", () => {
    const volumes = [
      { name: "tmp", emptyDir: {} },
      { name: "settings", configMap: { name: "settings" } },
      { name: "certs", secret: { secretName: "certs" } },
      {
        name: "token",
        projected: { sources: [{ serviceAccountToken: { path: "token" } }, { downwardAPI: { items: [] } }] },
      },
      { name: "info", downwardAPI: { items: [] } },
    ];
    const plan = planDeployment(
      hostile((d) => Object.assign(podOf(d), { volumes })),
      options,
    );
    expect(plan.findings).toEqual([]);
    expect(podOf(plan.deployment).volumes).toEqual(volumes);
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
    // The kubelet stand-in writes a bridged manager's exit back as the same exit code.
    expect(exitCodeOf(exit as Parameters<typeof exitCodeOf>[0])).toBe(terminated.exitCode);
  });

  it("takes the first termination of a restarted container from its last state", () => {
    const pod = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "p" },
      status: {
        containerStatuses: [
          { name: "manager", restartCount: 1, state: { running: {} }, lastState: { terminated: { exitCode: 2 } } },
        ],
      },
    } as KubeObject;
    expect(firstTermination(pod, "manager")).toEqual({ exitCode: 2 });
    expect(firstTermination(pod, "other")).toBeUndefined();
  });

  it("reads why no pod could be made from the Deployment's ReplicaFailure condition", () => {
    const refused = {
      ...referenceDeployment(),
      status: {
        conditions: [
          {
            type: "ReplicaFailure",
            status: "True",
            message: 'pods "x" is forbidden: violates PodSecurity "baseline:latest": privileged',
          },
        ],
      },
    } as KubeObject;
    expect(replicaFailure(refused)).toMatch(/violates PodSecurity/);
    expect(replicaFailure(referenceDeployment())).toBeUndefined();
  });
});
