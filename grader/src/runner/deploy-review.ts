import type { KubeObject } from "../engine/trace.ts";
import { PolicyRulesSchema, reviewRole } from "./role-review.ts";

/**
 * What `make deploy` would apply (config/default rendered by kustomize), reviewed before any of it
 * reaches the cluster. labgrader applies the operator, not whatever else a project's manifests say:
 * its namespace, ServiceAccounts, the roles it generated (reviewed as role-review.ts does), bindings
 * of those roles to its own ServiceAccounts, its Services and ConfigMaps, and its one Deployment,
 * whose manager runs the image labgrader built.
 */
export interface DeployPlan {
  namespace: string;
  deployment: KubeObject;
  /** The manager container's name in the Deployment. */
  container: string;
  serviceAccount: string;
  /** In apply order: the namespace, identities and roles first, the Deployment last. */
  objects: KubeObject[];
  /** One readable sentence per thing left out or changed. */
  findings: string[];
}

export interface DeployReviewOptions {
  /** The manager image labgrader built and loaded into the cluster. */
  image: string;
  /** Flags appended to the manager's own (a learner's manager gets none). */
  managerArgs: string[];
  /** Labels labgrader puts on everything it applies. */
  labels: Record<string, string>;
}

/** Thrown when the manifests hold no operator to deploy: the learner's fault. */
export class DeployManifestError extends Error {}

const KEPT_NAMESPACED = new Set(["ServiceAccount", "Service", "ConfigMap", "Role", "RoleBinding"]);
const PSA_ENFORCE = "pod-security.kubernetes.io/enforce";
const ORDER = ["Namespace", "ServiceAccount", "ClusterRole", "Role", "ClusterRoleBinding", "RoleBinding", "ConfigMap", "Service", "Deployment"];

const describe = (o: KubeObject) => `${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ""}${o.metadata.name}`;

type Container = { name?: string; image?: string; imagePullPolicy?: string; args?: string[]; command?: string[] };
type PodSpec = { containers?: Container[]; serviceAccountName?: string; serviceAccount?: string };
const podSpec = (d: KubeObject) => ((d as { spec?: { template?: { spec?: PodSpec } } }).spec?.template?.spec ?? {}) as PodSpec;

function managerContainer(deployment: KubeObject): Container {
  const containers = podSpec(deployment).containers ?? [];
  const found = containers.find((c) => c.name === "manager") ?? containers.find((c) => c.command?.includes("/manager")) ?? (containers.length === 1 ? containers[0] : undefined);
  if (!found) throw new DeployManifestError(`${describe(deployment)} has no container named "manager" (the kubebuilder scaffold's), so labgrader cannot tell which container runs the operator`);
  return found;
}

function withLabels(o: KubeObject, labels: Record<string, string>): KubeObject {
  return { ...o, metadata: { ...o.metadata, labels: { ...o.metadata.labels, ...labels } } };
}

/**
 * Roles are applied only with the escalation-free part of their rules; aggregation (which imports
 * other roles' rules) is dropped. What was cut is a finding only for a role bound to the operator:
 * the scaffold's admin/editor/viewer roles are for people, and grant the operator nothing.
 */
function reviewRoleObject(o: KubeObject, bound: boolean, findings: Set<string>): KubeObject {
  const parsed = PolicyRulesSchema.safeParse((o as { rules?: unknown }).rules ?? []);
  if (!parsed.success) throw new DeployManifestError(`${describe(o)} has invalid rules: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
  const review = reviewRole(parsed.data);
  if (!bound) return { ...o, rules: review.rules } as KubeObject;
  for (const f of review.findings) findings.add(`${describe(o)}: ${f}`);
  const { aggregationRule, ...rest } = o as KubeObject & { aggregationRule?: unknown };
  if (aggregationRule) findings.add(`${describe(o)} aggregates other roles' rules; labgrader binds only rules a role names, so its aggregationRule was left out.`);
  return { ...rest, rules: review.rules } as KubeObject;
}

type Binding = KubeObject & { roleRef?: { kind?: string; name?: string }; subjects?: { kind?: string; name?: string; namespace?: string }[] };

/** A binding survives only if it binds one of the project's own roles to its own ServiceAccounts. */
function reviewBinding(o: Binding, namespace: string, roles: Set<string>, findings: Set<string>): KubeObject | undefined {
  const ref = `${o.roleRef?.kind ?? "?"}/${o.roleRef?.name ?? "?"}`;
  if (!roles.has(ref)) {
    findings.add(`${describe(o)} binds ${ref}, which is not one of the project's own roles; labgrader binds only those, so it was left out.`);
    return undefined;
  }
  const subjects = (o.subjects ?? []).filter((s) => {
    const own = s.kind === "ServiceAccount" && (s.namespace ?? o.metadata.namespace) === namespace;
    if (!own) findings.add(`${describe(o)} names ${s.kind ?? "?"} ${s.namespace ? `${s.namespace}/` : ""}${s.name ?? "?"}; labgrader binds roles only to the operator's own ServiceAccounts, so that subject was left out.`);
    return own;
  });
  return subjects.length > 0 ? ({ ...o, subjects } as KubeObject) : undefined;
}

/** Reviews kustomize's output of config/default and returns what labgrader will apply. */
export function planDeployment(rendered: KubeObject[], options: DeployReviewOptions): DeployPlan {
  const findings = new Set<string>();
  const deployments = rendered.filter((o) => o.kind === "Deployment");
  const deployment = deployments[0];
  if (!deployment) throw new DeployManifestError("config/default renders no Deployment, so there is no manager to deploy");
  for (const extra of deployments.slice(1)) findings.add(`${describe(extra)} is a second Deployment; labgrader deploys only the manager (${describe(deployment)}), so it was left out.`);
  const namespace = deployment.metadata.namespace ?? "default";
  const roles = new Set(rendered.filter((o) => o.kind === "ClusterRole" || o.kind === "Role").map((o) => `${o.kind}/${o.metadata.name}`));

  const kept: KubeObject[] = [];
  const inNamespace = (o: KubeObject) => o.metadata.namespace === undefined || o.metadata.namespace === namespace;
  const bindings = new Map<KubeObject, KubeObject | undefined>();
  for (const o of rendered) if ((o.kind === "ClusterRoleBinding" || o.kind === "RoleBinding") && inNamespace(o)) bindings.set(o, reviewBinding(o, namespace, roles, findings));
  const boundRoles = new Set([...bindings.values()].filter((b) => b !== undefined).map((b) => `${(b as Binding).roleRef?.kind}/${(b as Binding).roleRef?.name}`));
  for (const o of rendered) {
    if (o === deployment || deployments.includes(o)) continue;
    // CRDs were already installed from config/crd/bases, as `make install` does.
    if (o.kind === "CustomResourceDefinition") continue;
    if (!inNamespace(o)) {
      findings.add(`${describe(o)} is outside the operator's namespace ${namespace}; labgrader applies nothing there, so it was left out.`);
    } else if (o.kind === "Namespace") {
      if (o.metadata.name !== namespace) findings.add(`${describe(o)} is not the operator's namespace ${namespace}; labgrader creates only that one, so it was left out.`);
      else kept.push(enforcingPodSecurity(o, findings));
    } else if (o.kind === "ClusterRole" || o.kind === "Role") {
      kept.push(reviewRoleObject(o, boundRoles.has(`${o.kind}/${o.metadata.name}`), findings));
    } else if (bindings.has(o)) {
      const binding = bindings.get(o);
      if (binding) kept.push(binding);
    } else if (KEPT_NAMESPACED.has(o.kind)) {
      kept.push(o);
    } else {
      findings.add(`${describe(o)}: labgrader deploys only the operator's namespace, ServiceAccounts, roles and bindings, ConfigMaps, Services and its Deployment, so it was left out.`);
    }
  }
  if (!kept.some((o) => o.kind === "Namespace")) kept.push(enforcingPodSecurity({ apiVersion: "v1", kind: "Namespace", metadata: { name: namespace } }, findings));

  const manager = managerContainer(deployment);
  const patched = structuredClone(deployment);
  const patchedManager = managerContainer(patched);
  patchedManager.image = options.image;
  // Nothing can be pulled: the image is in the node already (kind load), as the course's Task 4.1 loads it.
  patchedManager.imagePullPolicy = "IfNotPresent";
  // One replica needs no leader election, and on a busy grading host a lease renewal that misses its
  // deadline makes a correct manager exit: the platform's fault would look like the learner's. Host
  // managers get --leader-elect=false too (manager.ts); here it replaces the scaffold's flag.
  const args = (manager.args ?? []).map((a) => (a === "--leader-elect" || a === "--leader-elect=true" ? "--leader-elect=false" : a));
  if (args.length > 0 || options.managerArgs.length > 0) patchedManager.args = [...args, ...options.managerArgs];
  const spec = podSpec(deployment);

  const objects = [...kept, patched].map((o) => withLabels(o, options.labels)).sort((a, b) => ORDER.indexOf(a.kind) - ORDER.indexOf(b.kind));
  return {
    namespace,
    deployment: objects.find((o) => o.kind === "Deployment")!,
    container: manager.name ?? "manager",
    serviceAccount: spec.serviceAccountName ?? spec.serviceAccount ?? "default",
    objects,
    findings: [...findings],
  };
}

/**
 * The operator's namespace enforces Pod Security like every other (the cluster default is baseline):
 * a project may make it stricter, never looser.
 */
function enforcingPodSecurity(o: KubeObject, findings: Set<string>): KubeObject {
  const labels = { ...o.metadata.labels };
  const asked = labels[PSA_ENFORCE];
  if (asked !== "restricted" && asked !== "baseline") {
    if (asked !== undefined) findings.add(`${describe(o)} asks for Pod Security "${asked}"; labgrader enforces at least "baseline" everywhere, so it enforces that.`);
    labels[PSA_ENFORCE] = "baseline";
  }
  return { ...o, metadata: { ...o.metadata, labels } };
}
