import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readManagerRole } from "./project.ts";
import { REFERENCE_OPERATOR_DIR } from "./reference.ts";
import { PolicyRulesSchema, reviewRole, type PolicyRule } from "./role-review.ts";

const RBAC = "rbac.authorization.k8s.io";

const cases: { name: string; rules: PolicyRule[]; kept: PolicyRule[]; findings: RegExp[] }[] = [
  {
    name: "keeps an ordinary operator rule",
    rules: [{ apiGroups: ["apps"], resources: ["statefulsets"], verbs: ["get", "list", "watch", "create"] }],
    kept: [{ apiGroups: ["apps"], resources: ["statefulsets"], verbs: ["get", "list", "watch", "create"] }],
    findings: [],
  },
  {
    name: "leaves out create on clusterrolebindings and keeps reading them",
    rules: [{ apiGroups: [RBAC], resources: ["clusterrolebindings"], verbs: ["create", "get"] }],
    kept: [{ apiGroups: [RBAC], resources: ["clusterrolebindings"], verbs: ["get"] }],
    findings: [
      /^Your role asks for "create" on clusterrolebindings \(rbac\.authorization\.k8s\.io\); labgrader never grants role escalation, so that permission was left out\.$/,
    ],
  },
  {
    name: "leaves out bind on cluster-admin, naming it",
    rules: [{ apiGroups: [RBAC], resources: ["clusterroles"], resourceNames: ["cluster-admin"], verbs: ["bind"] }],
    kept: [],
    findings: [
      /"bind" on clusterroles \(rbac\.authorization\.k8s\.io\) named cluster-admin; labgrader never grants role escalation/,
    ],
  },
  {
    name: "leaves out escalate and impersonate wherever they appear",
    rules: [
      { apiGroups: [RBAC], resources: ["roles"], verbs: ["escalate", "get"] },
      { apiGroups: [""], resources: ["users", "serviceaccounts"], verbs: ["impersonate"] },
    ],
    kept: [{ apiGroups: [RBAC], resources: ["roles"], verbs: ["get"] }],
    findings: [/"escalate" on roles/, /"impersonate" on users \(core\)/, /"impersonate" on serviceaccounts \(core\)/],
  },
  {
    name: "splits a mixed rule so that only the refused combination goes",
    rules: [{ apiGroups: ["", RBAC], resources: ["secrets", "rolebindings"], verbs: ["get", "delete"] }],
    kept: [
      { apiGroups: ["", RBAC], resources: ["secrets", "rolebindings"], verbs: ["get"] },
      { apiGroups: [""], resources: ["secrets", "rolebindings"], verbs: ["delete"] },
      { apiGroups: [RBAC], resources: ["secrets"], verbs: ["delete"] },
    ],
    findings: [/"delete" on rolebindings \(rbac\.authorization\.k8s\.io\)/],
  },
  {
    name: "leaves out wildcard verbs, resources and groups, keeping what is named",
    rules: [
      { apiGroups: ["database.example.com"], resources: ["databases"], verbs: ["*", "get"] },
      { apiGroups: ["apps"], resources: ["*"], verbs: ["list"] },
      { apiGroups: ["*"], resources: ["pods"], verbs: ["watch"] },
    ],
    kept: [{ apiGroups: ["database.example.com"], resources: ["databases"], verbs: ["get"] }],
    findings: [/every verb \("\*"\) on databases/, /every resource \("\*"\) in apps/, /every API group \("\*"\)/],
  },
  {
    name: "leaves out write verbs on RBAC objects asked through a wildcard group",
    rules: [{ apiGroups: ["*", RBAC], resources: ["clusterroles"], verbs: ["update"] }],
    kept: [],
    findings: [/every API group/, /"update" on clusterroles \(rbac\.authorization\.k8s\.io\)/],
  },
  {
    name: "leaves out relabelling namespaces but keeps creating them",
    rules: [{ apiGroups: [""], resources: ["namespaces"], verbs: ["create", "patch", "update"] }],
    kept: [{ apiGroups: [""], resources: ["namespaces"], verbs: ["create"] }],
    findings: [/"patch", "update" on namespaces \(core\); labgrader never lets an operator relabel namespaces/],
  },
  {
    name: "leaves out the API server's URLs",
    rules: [{ nonResourceURLs: ["/metrics"], verbs: ["get", "*"] }],
    kept: [],
    findings: [/"get", "\*" on the URLs \/metrics; labgrader never grants it to an operator/],
  },
  {
    name: "leaves out the API server as a proxy, a pod's status and exec, tokens, the kubelet, webhooks, CRDs and certificates",
    rules: [
      {
        apiGroups: [""],
        resources: ["pods", "pods/status", "pods/proxy", "pods/exec", "serviceaccounts/token", "nodes/proxy"],
        verbs: ["get", "create", "update"],
      },
      {
        apiGroups: ["admissionregistration.k8s.io", "apiextensions.k8s.io"],
        resources: ["validatingwebhookconfigurations", "customresourcedefinitions"],
        verbs: ["get", "create"],
      },
      { apiGroups: ["certificates.k8s.io"], resources: ["certificatesigningrequests/approval"], verbs: ["update"] },
    ],
    kept: [
      { apiGroups: [""], resources: ["pods"], verbs: ["get", "create", "update"] },
      {
        apiGroups: ["admissionregistration.k8s.io", "apiextensions.k8s.io"],
        resources: ["validatingwebhookconfigurations", "customresourcedefinitions"],
        verbs: ["get"],
      },
    ],
    findings: [
      /on pods\/status \(core\); labgrader never grants/,
      /on pods\/proxy/,
      /on pods\/exec/,
      /on serviceaccounts\/token/,
      /on nodes\/proxy/,
      /"create" on validatingwebhookconfigurations/,
      /"create" on customresourcedefinitions/,
      /"update" on certificatesigningrequests\/approval/,
    ],
  },
];

describe("reviewRole", () => {
  it.each(cases)("$name", ({ rules, kept, findings }) => {
    const review = reviewRole(rules);
    expect(review.rules).toEqual(kept);
    expect(review.findings).toHaveLength(findings.length);
    for (const pattern of findings)
      expect(
        review.findings.some((f) => pattern.test(f)),
        `${pattern} in ${JSON.stringify(review.findings)}`,
      ).toBe(true);
  });

  it("keeps within a lab's allowed permissions, and says what it leaves out without counting it", () => {
    const allowed = [{ apiGroups: ["apps"], resources: ["statefulsets"], verbs: ["get", "list", "watch", "create"] }];
    const review = reviewRole(
      [{ apiGroups: ["apps", "batch"], resources: ["statefulsets", "jobs"], verbs: ["get", "delete"] }],
      allowed,
    );
    expect(review.rules).toEqual([{ apiGroups: ["apps"], resources: ["statefulsets"], verbs: ["get"] }]);
    expect(review.findings).toEqual([
      expect.stringMatching(
        /^Your role asks for "delete" on statefulsets \(apps\); an operator of this lab needs no such permission, so it was left out \(the grade does not count it against you\)\.$/,
      ),
      expect.stringMatching(/"get", "delete" on jobs \(apps\)/),
      expect.stringMatching(/"get", "delete" on statefulsets \(batch\)/),
      expect.stringMatching(/"get", "delete" on jobs \(batch\)/),
    ]);
  });

  it("returns the reference operator's role unchanged, with no findings", async () => {
    const role = await readManagerRole(REFERENCE_OPERATOR_DIR);
    const rules = PolicyRulesSchema.parse((role as { rules?: unknown }).rules);
    const review = reviewRole(rules);
    expect(review.findings).toEqual([]);
    expect(review.rules).toEqual(rules);
  });

  it("reviews the hostile fixture's role down to the normal rules", async () => {
    const role = await readManagerRole(join(import.meta.dirname, "../../../test/fixtures/hostile-operator"));
    const review = reviewRole(PolicyRulesSchema.parse((role as { rules?: unknown }).rules));
    expect(review.findings).toEqual([
      expect.stringContaining('"bind" on clusterroles (rbac.authorization.k8s.io) named cluster-admin'),
      expect.stringContaining('"create" on clusterrolebindings (rbac.authorization.k8s.io)'),
      expect.stringContaining('"patch", "update" on namespaces (core)'),
    ]);
    expect(review.rules.flatMap((r) => r.resources ?? [])).not.toContain("clusterrolebindings");
    // Creating a namespace stays: kind's admission policies refuse a privileged one.
    expect(review.rules.find((r) => r.resources?.includes("namespaces"))?.verbs).toEqual(["create"]);
  });
});
