import { SYSTEM_NAMESPACES } from "../clusters/kind-config.ts";
import { POD_SECURITY_ENFORCE, type PodSecurity } from "../engine/lab.ts";
import type { KubeObject } from "../engine/trace.ts";
import { DeployManifestError } from "./deploy-error.ts";
import { reviewManagerDeployment } from "./deploy-pod-review.ts";
import { PolicyRulesSchema, reviewRole, type PolicyRule } from "./role-review.ts";

/**
 * What `make deploy` would apply (config/default rendered by kustomize), reviewed before any of it
 * reaches the cluster. labgrader creates the operator, not whatever else a project's manifests say,
 * and from an allow-list: the operator's namespace (labgrader's own, enforcing the lab's Pod
 * Security), ServiceAccounts, the roles it generated (reviewed as role-review.ts does), bindings of
 * those roles to its own ServiceAccounts, its Services, ConfigMaps and PodDisruptionBudgets, all in
 * that namespace, and
 * its one Deployment, whose pod is rebuilt by deploy-pod-review.ts.
 */
export interface DeployPlan {
  namespace: string;
  deployment: KubeObject;
  /** The manager container's name in the Deployment. */
  container: string;
  serviceAccount: string;
  /** In creation order: the namespace, identities and roles first, the Deployment last. */
  objects: KubeObject[];
  /** One readable sentence per thing left out or changed. */
  findings: string[];
}

export interface DeployReviewOptions {
  /** The manager image labgrader built and loaded into the cluster. */
  image: string;
  /** Flags appended to the manager's own (a learner's manager gets none). */
  managerArgs: string[];
  /** Labels labgrader puts on everything it creates. */
  labels: Record<string, string>;
  /** What an operator of the lab may be granted (the lab's permissions); unset, only what no operator gets is cut. */
  allowed?: PolicyRule[];
  /** Pod Security the operator's namespace enforces (the lab's podSecurity); unset, restricted. */
  podSecurity?: PodSecurity;
  /** The Deployment's replicas and leader election kept as written (see ManagerPodOptions.keepReplicas). */
  keepReplicas?: boolean;
}

/** Who a deployed manager acts as: its ServiceAccount, and the user name SubjectAccessReviews ask about. */
export function identityOf(plan: Pick<DeployPlan, "namespace" | "serviceAccount">) {
  return {
    namespace: plan.namespace,
    serviceAccount: plan.serviceAccount,
    username: `system:serviceaccount:${plan.namespace}:${plan.serviceAccount}`,
  };
}

const NAMESPACED = new Set(["ServiceAccount", "Service", "ConfigMap", "Role", "RoleBinding", "PodDisruptionBudget"]);
const CLUSTER_SCOPED = new Set(["ClusterRole", "ClusterRoleBinding"]);
/** Objects Kubernetes makes in every namespace: a project's own would race its controllers. */
const MADE_BY_KUBERNETES = new Set(["ServiceAccount/default", "ConfigMap/kube-root-ca.crt"]);
const ORDER = [
  "Namespace",
  "ServiceAccount",
  "ClusterRole",
  "Role",
  "ClusterRoleBinding",
  "RoleBinding",
  "ConfigMap",
  "Service",
  "PodDisruptionBudget",
  "Deployment",
];
const LEVELS: readonly string[] = ["privileged", "baseline", "restricted"];
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

const describe = (o: KubeObject) =>
  `${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ""}${o.metadata.name}`;
const key = (kind: string | undefined, name: string | undefined) => `${kind ?? "?"}/${name ?? "?"}`;

/** Namespaces that are the cluster's own: an operator is never deployed into one. */
function isClusterNamespace(name: string): boolean {
  return name === "default" || name.startsWith("kube-") || (SYSTEM_NAMESPACES as readonly string[]).includes(name);
}

function withLabels(o: KubeObject, labels: Record<string, string>): KubeObject {
  return { ...o, metadata: { ...o.metadata, labels: { ...o.metadata.labels, ...labels } } };
}

/** The namespace the Deployment names, if an operator may have it; the deploy is refused otherwise. */
function operatorNamespace(deployment: KubeObject): string {
  const name = deployment.metadata.namespace;
  if (!name)
    throw new DeployManifestError(
      `Deployment ${deployment.metadata.name} names no namespace; set \`namespace:\` in config/default/kustomization.yaml to the operator's own, as the scaffold does (<project>-system)`,
    );
  if (!DNS_LABEL.test(name))
    throw new DeployManifestError(
      `Deployment ${deployment.metadata.name} names the namespace "${name}", which is not a valid namespace name`,
    );
  if (isClusterNamespace(name)) {
    throw new DeployManifestError(
      `config/default puts the manager in the namespace ${name}, which belongs to the cluster; labgrader deploys an operator only into a namespace of its own (set \`namespace:\` in config/default/kustomization.yaml, e.g. <project>-system)`,
    );
  }
  return name;
}

/**
 * Roles are created only with the escalation-free part of their rules that the lab allows;
 * aggregation (which imports other roles' rules) is dropped from every role. What was cut is a
 * finding only for a role bound to the operator: the scaffold's admin/editor/viewer roles are for
 * people, and grant the operator nothing.
 */
function reviewRoleObject(
  o: KubeObject,
  bound: boolean,
  findings: string[],
  allowed: PolicyRule[] | undefined,
): KubeObject {
  const parsed = PolicyRulesSchema.safeParse((o as { rules?: unknown }).rules ?? []);
  if (!parsed.success)
    throw new DeployManifestError(
      `${describe(o)} has invalid rules: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`,
    );
  const review = reviewRole(parsed.data, allowed);
  const { aggregationRule, ...rest } = o as KubeObject & { aggregationRule?: unknown };
  if (bound) {
    for (const f of review.findings) findings.push(`${describe(o)}: ${f}`);
    if (aggregationRule)
      findings.push(
        `${describe(o)} aggregates other roles' rules; labgrader binds only rules a role names, so its aggregationRule was left out.`,
      );
  }
  return { ...rest, rules: review.rules } as KubeObject;
}

type Binding = KubeObject & {
  roleRef?: { kind?: string; name?: string };
  subjects?: { kind?: string; name?: string; namespace?: string }[];
};

/** A binding survives only if it binds one of the project's own roles to its own ServiceAccounts. */
function reviewBinding(
  o: Binding,
  namespace: string,
  roles: Set<string>,
  serviceAccounts: Set<string>,
  findings: string[],
): KubeObject | undefined {
  const ref = key(o.roleRef?.kind, o.roleRef?.name);
  if (!roles.has(ref)) {
    findings.push(
      `${describe(o)} binds ${ref}, which is not one of the project's own roles; labgrader binds only those, so it was left out.`,
    );
    return undefined;
  }
  const subjects = (o.subjects ?? []).filter((s) => {
    const own =
      s.kind === "ServiceAccount" &&
      (s.namespace ?? o.metadata.namespace) === namespace &&
      serviceAccounts.has(s.name ?? "");
    if (!own)
      findings.push(
        `${describe(o)} names ${s.kind ?? "?"} ${s.namespace ? `${s.namespace}/` : ""}${s.name ?? "?"}; labgrader binds roles only to the ServiceAccounts the project creates in ${namespace}, so that subject was left out.`,
      );
    return own;
  });
  return subjects.length > 0 ? ({ ...o, subjects } as KubeObject) : undefined;
}

type Service = KubeObject & { spec?: Record<string, unknown> & { type?: string; ports?: Record<string, unknown>[] } };

/**
 * A Service stays inside the cluster: ClusterIP only. A node port or load balancer opens the node,
 * and external IPs let kube-proxy capture traffic meant for any address (CVE-2020-8554).
 */
function reviewService(o: Service, findings: string[]): KubeObject | undefined {
  const spec = o.spec ?? {};
  if (spec.type === "ExternalName") {
    findings.push(
      `${describe(o)} is an ExternalName Service; labgrader creates only ClusterIP Services, so it was left out.`,
    );
    return undefined;
  }
  const out: Record<string, unknown> = { ...spec };
  if (spec.type !== undefined && spec.type !== "ClusterIP") {
    findings.push(
      `${describe(o)} is of type ${spec.type}; labgrader opens no port on the node, so it is a ClusterIP Service.`,
    );
    out.type = "ClusterIP";
    out.ports = (spec.ports ?? []).map(({ nodePort: _, ...port }) => port);
    for (const field of [
      "externalTrafficPolicy",
      "loadBalancerIP",
      "loadBalancerSourceRanges",
      "loadBalancerClass",
      "allocateLoadBalancerNodePorts",
      "healthCheckNodePort",
    ])
      delete out[field];
  }
  if (Array.isArray(spec.externalIPs) && spec.externalIPs.length > 0) {
    findings.push(
      `${describe(o)} claims the external IPs ${spec.externalIPs.join(", ")}; labgrader lets no Service capture other addresses' traffic, so they were left out.`,
    );
    delete out.externalIPs;
  }
  return { ...o, spec: out } as KubeObject;
}

/** labgrader's own namespace for the operator: the project's labels, and at least the lab's Pod Security. */
function operatorNamespaceObject(
  name: string,
  asked: KubeObject | undefined,
  level: PodSecurity,
  findings: string[],
): KubeObject {
  const labels = Object.fromEntries(
    Object.entries(asked?.metadata.labels ?? {}).filter(([k]) => !k.startsWith("pod-security.kubernetes.io/")),
  );
  const wanted = asked?.metadata.labels?.[POD_SECURITY_ENFORCE];
  const stricter = wanted !== undefined && LEVELS.indexOf(wanted) > LEVELS.indexOf(level);
  if (wanted !== undefined && !stricter && wanted !== level)
    findings.push(`Namespace ${name} asks for Pod Security "${wanted}"; labgrader enforces "${level}" in it.`);
  return {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: { name, labels: { ...labels, [POD_SECURITY_ENFORCE]: stricter ? wanted : level } },
  };
}

/**
 * Reviews kustomize's output of config/default and returns what labgrader will create. A refusal
 * also names what the review had found before it, so the learner sees every problem at once.
 */
export function planDeployment(rendered: KubeObject[], options: DeployReviewOptions): DeployPlan {
  const findings: string[] = [];
  try {
    return reviewRendered(rendered, options, findings);
  } catch (e) {
    if (!(e instanceof DeployManifestError) || findings.length === 0) throw e;
    throw new DeployManifestError([e.message, "Also:", ...findings].join("\n"), { cause: e });
  }
}

function reviewRendered(rendered: KubeObject[], options: DeployReviewOptions, findings: string[]): DeployPlan {
  // A system: name is Kubernetes' own (system:basic-user, system:node…): a role of that name would be everyone's.
  const named = rendered.filter((o) => {
    if (!/^system:/i.test(o.metadata.name)) return true;
    findings.push(
      `${describe(o)} has a name reserved for Kubernetes itself (system:…); labgrader creates no such object, so it was left out.`,
    );
    return false;
  });
  const deployments = named.filter((o) => o.kind === "Deployment");
  const deployment = deployments[0];
  if (!deployment)
    throw new DeployManifestError("config/default renders no Deployment, so there is no manager to deploy");
  for (const extra of deployments.slice(1))
    findings.push(
      `${describe(extra)} is a second Deployment; labgrader deploys only the manager (${describe(deployment)}), so it was left out.`,
    );
  const namespace = operatorNamespace(deployment);

  // Every namespaced object goes into the operator's namespace; one that names another is left out, never moved.
  const placed: KubeObject[] = [];
  let namespaceObject: KubeObject | undefined;
  for (const o of named) {
    if (o.kind === "Deployment" || o.kind === "CustomResourceDefinition") continue; // CRDs were installed from config/crd/bases, as `make install` does.
    if (o.kind === "Namespace") {
      if (o.metadata.name === namespace) namespaceObject = o;
      else
        findings.push(
          `${describe(o)} is not the operator's namespace ${namespace}; labgrader creates only that one, so it was left out.`,
        );
    } else if (CLUSTER_SCOPED.has(o.kind)) {
      const { namespace: _, ...metadata } = o.metadata;
      placed.push({ ...o, metadata } as KubeObject);
    } else if (!NAMESPACED.has(o.kind)) {
      findings.push(
        `${describe(o)}: labgrader deploys only the operator's ServiceAccounts, roles and bindings, ConfigMaps, Services, PodDisruptionBudgets and its Deployment, so it was left out.`,
      );
    } else if (o.metadata.namespace !== undefined && o.metadata.namespace !== namespace) {
      findings.push(
        `${describe(o)} is outside the operator's namespace ${namespace}; labgrader creates nothing there, so it was left out.`,
      );
    } else if (MADE_BY_KUBERNETES.has(key(o.kind, o.metadata.name))) {
      findings.push(
        `${o.kind} ${namespace}/${o.metadata.name} is made by Kubernetes in every namespace; labgrader does not create it, so it was left out.`,
      );
    } else {
      placed.push({ ...o, metadata: { ...o.metadata, namespace } } as KubeObject);
    }
  }

  const serviceAccounts = new Set(placed.filter((o) => o.kind === "ServiceAccount").map((o) => o.metadata.name));
  const roles = new Set(
    placed.filter((o) => o.kind === "ClusterRole" || o.kind === "Role").map((o) => key(o.kind, o.metadata.name)),
  );
  const bindings = new Map<KubeObject, KubeObject | undefined>();
  for (const o of placed)
    if (o.kind === "ClusterRoleBinding" || o.kind === "RoleBinding")
      bindings.set(o, reviewBinding(o, namespace, roles, serviceAccounts, findings));
  const boundRoles = new Set(
    [...bindings.values()]
      .filter((b): b is Binding => b !== undefined)
      .map((b) => key(b.roleRef?.kind, b.roleRef?.name)),
  );
  const kept: KubeObject[] = [
    operatorNamespaceObject(namespace, namespaceObject, options.podSecurity ?? "restricted", findings),
  ];
  for (const o of placed) {
    if (o.kind === "ClusterRole" || o.kind === "Role")
      kept.push(reviewRoleObject(o, boundRoles.has(key(o.kind, o.metadata.name)), findings, options.allowed));
    else if (bindings.has(o)) {
      const binding = bindings.get(o);
      if (binding) kept.push(binding);
    } else if (o.kind === "Service") {
      const service = reviewService(o, findings);
      if (service) kept.push(service);
    } else kept.push(o);
  }

  const manager = reviewManagerDeployment(deployment, {
    namespace,
    image: options.image,
    managerArgs: options.managerArgs,
    serviceAccounts,
    ...(options.keepReplicas ? { keepReplicas: true } : {}),
  });
  findings.push(...manager.findings);
  const objects = [...kept, manager.deployment]
    .map((o) => withLabels(o, options.labels))
    .sort((a, b) => ORDER.indexOf(a.kind) - ORDER.indexOf(b.kind));
  return {
    namespace,
    deployment: objects.find((o) => o.kind === "Deployment")!,
    container: manager.container,
    serviceAccount: manager.serviceAccount,
    objects,
    findings: [...new Set(findings)],
  };
}
