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
const CUTS: Cut[] = [
  // These three let a subject grant or assume permissions it does not hold, whatever the resource.
  { verbs: new Set(["bind", "escalate", "impersonate"]), why: ESCALATION },
  { groups: new Set([RBAC_GROUP]), resources: new Set(["roles", "rolebindings", "clusterroles", "clusterrolebindings"]), verbs: WRITES, why: ESCALATION },
  // Namespace labels decide Pod Security admission and network policy selection.
  { groups: new Set([""]), resources: new Set(["namespaces"]), verbs: new Set(["update", "patch"]), why: "labgrader never lets an operator relabel namespaces, so that permission was left out." },
];

const quoted = (items: Iterable<string>) => [...items].map((v) => `"${v}"`).join(", ");
const groupName = (group: string) => (group === "" ? "core" : group);
const intersect = (list: string[], set: ReadonlySet<string> | undefined) => (set ? list.filter((x) => set.has(x)) : list);
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
  const where = target(rule, subtract(rule.resources ?? [], new Set(["*"])), subtract(rule.apiGroups ?? [], new Set(["*"])));
  if (rule.verbs.includes("*")) {
    findings.add(`Your role asks for every verb ("*") on ${where}; labgrader grants only verbs a role names, so "*" was left out.`);
    out.verbs = subtract(rule.verbs, new Set(["*"]));
  }
  if (rule.resources?.includes("*")) {
    findings.add(`Your role asks for ${quoted(rule.verbs)} on every resource ("*") in ${(rule.apiGroups ?? []).map(groupName).join(", ")}; labgrader grants only resources a role names, so "*" was left out.`);
    out.resources = subtract(rule.resources, new Set(["*"]));
  }
  if (rule.apiGroups?.includes("*")) {
    findings.add(`Your role asks for ${quoted(rule.verbs)} on ${(rule.resources ?? []).join(", ")} in every API group ("*"); labgrader grants only API groups a role names, so "*" was left out.`);
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
  const hit = hitVerbs.length > 0 && (!resourceRule || !cut.groups || (hitGroups.length > 0 && hitResources.length > 0));
  if (!hit) return [rule];
  for (const resource of resourceRule ? hitResources : [""]) {
    const what = resourceRule ? target(rule, [resource], hitGroups) : target(rule, [], []);
    findings.add(`Your role asks for ${quoted(hitVerbs)} on ${what}; ${cut.why}`);
  }
  const pieces: PolicyRule[] = [{ ...rule, verbs: subtract(rule.verbs, cut.verbs) }];
  if (resourceRule && cut.groups) pieces.push({ ...rule, apiGroups: subtract(groups, cut.groups), verbs: hitVerbs });
  if (resourceRule && cut.groups && cut.resources) pieces.push({ ...rule, apiGroups: hitGroups, resources: subtract(resources, cut.resources), verbs: hitVerbs });
  return pieces.filter((p) => p.verbs.length > 0 && (!resourceRule || ((p.apiGroups ?? []).length > 0 && (p.resources ?? []).length > 0)));
}

function isEmpty(rule: PolicyRule): boolean {
  if (rule.verbs.length === 0) return true;
  if (rule.nonResourceURLs?.length) return false;
  return (rule.apiGroups ?? []).length === 0 || (rule.resources ?? []).length === 0;
}

/**
 * Reviews a learner's generated role before it is bound: whatever would let the operator escalate
 * (grant itself or anyone more than it holds) or act on everything is left out, and said so.
 * A role without such permissions comes back unchanged.
 */
export function reviewRole(rules: PolicyRule[]): RoleReview {
  const findings = new Set<string>();
  let reviewed = rules.map((r) => stripWildcards(r, findings)).filter((r) => !isEmpty(r));
  for (const cut of CUTS) reviewed = reviewed.flatMap((r) => applyCut(r, cut, findings));
  return { rules: reviewed, findings: [...findings] };
}
