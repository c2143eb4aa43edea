import { z } from "zod";

/** One rule of a ClusterRole as controller-gen writes it; unknown fields are dropped before it is bound. */
export const PolicyRuleSchema = z.object({
  apiGroups: z.array(z.string()).optional(),
  resources: z.array(z.string()).optional(),
  resourceNames: z.array(z.string()).optional(),
  nonResourceURLs: z.array(z.string()).optional(),
  verbs: z.array(z.string()),
});
export type PolicyRule = z.infer<typeof PolicyRuleSchema>;

export const PolicyRulesSchema = z.array(PolicyRuleSchema);

export interface RoleReview {
  /** The rules that are bound: the learner's, less exactly what was refused. */
  rules: PolicyRule[];
  /** One readable sentence per refused permission. */
  findings: string[];
}

const RBAC_GROUP = "rbac.authorization.k8s.io";
const ESCALATION = "labgrader never grants role escalation, so that permission was left out.";

/**
 * A permission a learner's role may not have: every (group, resource, verb) in the cross product
 * of these sets. `undefined` matches anything, including rules without resources.
 */
interface Cut {
  groups?: ReadonlySet<string>;
  resources?: ReadonlySet<string>;
  verbs: ReadonlySet<string>;
  why: string;
}

const WRITES = new Set(["create", "update", "patch", "delete", "deletecollection"]);
const ALL_VERBS = new Set([
  "get",
  "list",
  "watch",
  ...WRITES,
  "bind",
  "escalate",
  "impersonate",
  "approve",
  "sign",
  "use",
]);
const NEVER = "labgrader never grants it to an operator, so that permission was left out.";
/** Permissions no lab may allow: each leads past the sandbox or the cluster's admission. */
export const CUTS: Cut[] = [
  // These three let a subject grant or assume permissions it does not hold, whatever the resource.
  { verbs: new Set(["bind", "escalate", "impersonate"]), why: ESCALATION },
  {
    groups: new Set([RBAC_GROUP]),
    resources: new Set(["roles", "rolebindings", "clusterroles", "clusterrolebindings"]),
    verbs: WRITES,
    why: ESCALATION,
  },
  // Namespace labels decide Pod Security admission and network policy selection.
  {
    groups: new Set([""]),
    resources: new Set(["namespaces"]),
    verbs: new Set(["update", "patch"]),
    why: "labgrader never lets an operator relabel namespaces, so that permission was left out.",
  },
  // The API server as a proxy (to any address a pod or service names), a pod's forged IP, the kubelet's API.
  {
    groups: new Set([""]),
    resources: new Set([
      "pods/proxy",
      "services/proxy",
      "nodes/proxy",
      "pods/status",
      "pods/exec",
      "pods/attach",
      "pods/portforward",
      "pods/ephemeralcontainers",
      "serviceaccounts/token",
      "nodes",
      "nodes/status",
    ]),
    verbs: ALL_VERBS,
    why: NEVER,
  },
  // Admission webhooks and policies, CRDs (a conversion webhook calls any address), certificates.
  {
    groups: new Set(["admissionregistration.k8s.io", "apiextensions.k8s.io", "apiregistration.k8s.io"]),
    verbs: WRITES,
    why: NEVER,
  },
  { groups: new Set(["certificates.k8s.io"]), verbs: ALL_VERBS, why: NEVER },
];

const quoted = (items: Iterable<string>) => [...items].map((v) => `"${v}"`).join(", ");
const groupName = (group: string) => (group === "" ? "core" : group);
const intersect = (list: string[], set: ReadonlySet<string> | undefined) =>
  set ? list.filter((x) => set.has(x)) : list;
const subtract = (list: string[], set: ReadonlySet<string>) => list.filter((x) => !set.has(x));

function named(rule: PolicyRule): string {
  return rule.resourceNames?.length ? ` named ${rule.resourceNames.join(", ")}` : "";
}

function target(rule: PolicyRule, resources: string[], groups: string[]): string {
  if (rule.nonResourceURLs?.length && resources.length === 0) return `the URLs ${rule.nonResourceURLs.join(", ")}`;
  return `${resources.join(", ")} (${groups.map(groupName).join(", ")})${named(rule)}`;
}

/** A wildcard grants whatever the API server will ever serve, including what a later lab adds: it is never bound. */
function stripWildcards(rule: PolicyRule, findings: Set<string>): PolicyRule {
  const out = { ...rule };
  const where = target(
    rule,
    subtract(rule.resources ?? [], new Set(["*"])),
    subtract(rule.apiGroups ?? [], new Set(["*"])),
  );
  if (rule.verbs.includes("*")) {
    findings.add(
      `Your role asks for every verb ("*") on ${where}; labgrader grants only verbs a role names, so "*" was left out.`,
    );
    out.verbs = subtract(rule.verbs, new Set(["*"]));
  }
  if (rule.resources?.includes("*")) {
    findings.add(
      `Your role asks for ${quoted(rule.verbs)} on every resource ("*") in ${(rule.apiGroups ?? []).map(groupName).join(", ")}; labgrader grants only resources a role names, so "*" was left out.`,
    );
    out.resources = subtract(rule.resources, new Set(["*"]));
  }
  if (rule.apiGroups?.includes("*")) {
    findings.add(
      `Your role asks for ${quoted(rule.verbs)} on ${(rule.resources ?? []).join(", ")} in every API group ("*"); labgrader grants only API groups a role names, so "*" was left out.`,
    );
    out.apiGroups = subtract(rule.apiGroups, new Set(["*"]));
  }
  return out;
}

/**
 * The rule less the cut, as up to three rules that together grant exactly the rest: the verbs the
 * cut does not name, the cut's verbs in other groups, and the cut's verbs on other resources.
 */
function applyCut(rule: PolicyRule, cut: Cut, findings: Set<string>): PolicyRule[] {
  const groups = rule.apiGroups ?? [];
  const resources = rule.resources ?? [];
  const hitVerbs = intersect(rule.verbs, cut.verbs);
  const hitGroups = cut.groups ? intersect(groups, cut.groups) : groups;
  const hitResources = cut.resources ? intersect(resources, cut.resources) : resources;
  const resourceRule = !rule.nonResourceURLs?.length;
  // A cut bound to groups concerns resources only; a cut of verbs alone concerns URLs too.
  const hit =
    hitVerbs.length > 0 &&
    (resourceRule ? !cut.groups || (hitGroups.length > 0 && hitResources.length > 0) : !cut.groups);
  if (!hit) return [rule];
  for (const resource of resourceRule ? hitResources : [""]) {
    const what = resourceRule ? target(rule, [resource], hitGroups) : target(rule, [], []);
    findings.add(`Your role asks for ${quoted(hitVerbs)} on ${what}; ${cut.why}`);
  }
  const pieces: PolicyRule[] = [{ ...rule, verbs: subtract(rule.verbs, cut.verbs) }];
  if (resourceRule && cut.groups) pieces.push({ ...rule, apiGroups: subtract(groups, cut.groups), verbs: hitVerbs });
  if (resourceRule && cut.groups && cut.resources)
    pieces.push({ ...rule, apiGroups: hitGroups, resources: subtract(resources, cut.resources), verbs: hitVerbs });
  return pieces.filter(
    (p) => p.verbs.length > 0 && (!resourceRule || ((p.apiGroups ?? []).length > 0 && (p.resources ?? []).length > 0)),
  );
}

/** "Verbs a lab allows on a resource": the union over its allowed rules naming that group and resource. */
function allowedVerbs(allowed: PolicyRule[], group: string, resource: string): Set<string> {
  const verbs = new Set<string>();
  for (const a of allowed)
    if ((a.apiGroups ?? []).includes(group) && (a.resources ?? []).includes(resource))
      for (const v of a.verbs) verbs.add(v);
  return verbs;
}

/**
 * The rule cut down to what the lab allows an operator, one rule per group and resource it keeps;
 * everything else is a finding. Rules of URLs (nonResourceURLs) are never kept.
 */
function withinAllowed(rule: PolicyRule, allowed: PolicyRule[], findings: Set<string>): PolicyRule[] {
  if (rule.nonResourceURLs?.length) {
    findings.add(`Your role asks for ${quoted(rule.verbs)} on ${target(rule, [], [])}; ${NOT_NEEDED}`);
    return [];
  }
  const kept: PolicyRule[] = [];
  for (const group of rule.apiGroups ?? []) {
    for (const resource of rule.resources ?? []) {
      const ok = allowedVerbs(allowed, group, resource);
      const verbs = rule.verbs.filter((v) => ok.has(v));
      const refused = rule.verbs.filter((v) => !ok.has(v));
      if (verbs.length > 0)
        kept.push({
          apiGroups: [group],
          resources: [resource],
          verbs,
          ...(rule.resourceNames?.length ? { resourceNames: rule.resourceNames } : {}),
        });
      if (refused.length > 0)
        findings.add(`Your role asks for ${quoted(refused)} on ${target(rule, [resource], [group])}; ${NOT_NEEDED}`);
    }
  }
  return kept;
}

const NOT_NEEDED =
  "an operator of this lab needs no such permission, so it was left out (the grade does not count it against you).";

function isEmpty(rule: PolicyRule): boolean {
  if (rule.verbs.length === 0) return true;
  if (rule.nonResourceURLs?.length) return false;
  return (rule.apiGroups ?? []).length === 0 || (rule.resources ?? []).length === 0;
}

/**
 * Reviews a learner's generated role before it is bound: whatever would let the operator escalate
 * (grant itself or anyone more than it holds), reach past its sandbox (proxies, pods' status and
 * exec, the kubelet, webhooks, CRDs, certificates) or act on everything is left out, and said so;
 * with a lab's `allowed` permissions, so is everything the lab's operators do not need. A role
 * within those bounds comes back unchanged.
 */
export function reviewRole(rules: PolicyRule[], allowed?: PolicyRule[]): RoleReview {
  const findings = new Set<string>();
  const urls = rules.filter((r) => r.nonResourceURLs?.length);
  // The API server's URLs (/metrics, /debug/pprof, /logs…) are no operator's business.
  for (const r of urls) findings.add(`Your role asks for ${quoted(r.verbs)} on ${target(r, [], [])}; ${NEVER}`);
  let reviewed = rules
    .filter((r) => !r.nonResourceURLs?.length)
    .map((r) => stripWildcards(r, findings))
    .filter((r) => !isEmpty(r));
  for (const cut of CUTS) reviewed = reviewed.flatMap((r) => applyCut(r, cut, findings));
  if (allowed) reviewed = reviewed.flatMap((r) => withinAllowed(r, allowed, findings));
  return { rules: reviewed, findings: [...findings] };
}

/** The permissions of a lab's allow-list that no lab may grant, as sentences (for the lab linter). */
export function forbiddenAllowances(allowed: PolicyRule[]): string[] {
  const findings = new Set<string>();
  for (const rule of allowed) for (const cut of CUTS) applyCut(rule, cut, findings);
  return [...findings];
}
