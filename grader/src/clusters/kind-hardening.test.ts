import { describe, expect, it } from "vitest";
import { compileCel } from "../engine/cel.ts";
import { hardeningObjects } from "./kind-hardening.ts";

type Policy = {
  metadata: { name: string };
  spec: {
    matchConstraints: { resourceRules: { resources: string[] }[] };
    matchConditions: { expression: string }[];
    validations: { expression: string }[];
  };
};
const policies = () => hardeningObjects().filter((o) => o.kind === "ValidatingAdmissionPolicy") as unknown as Policy[];
const policy = (name: string) => policies().find((p) => p.metadata.name === name)!;

/** Whether a policy's match conditions select a request made by this user. */
function applies(p: Policy, username: string, groups: string[] = []): boolean {
  return p.spec.matchConditions.every((c) => {
    const outcome = compileCel(c.expression, ["request", "object"]).run({
      request: { userInfo: { username, groups } },
      object: {},
    });
    if (!outcome.ok) throw new Error(outcome.error);
    return outcome.value === true;
  });
}

describe("labgrader's admission policies on kind", () => {
  it("match every resource and every subresource of the system namespaces (pods/exec, serviceaccounts/token…)", () => {
    // "*" alone matches no subresource; "*/*" matches both, and may not stand beside another entry.
    expect(policy("labgrader-system-namespaces").spec.matchConstraints.resourceRules.map((r) => r.resources)).toEqual([
      ["*/*"],
    ]);
  });

  it.each([
    {
      who: "a learner's ServiceAccount",
      username: "system:serviceaccount:postgres-operator-system:postgres-operator-controller-manager",
      groups: ["system:serviceaccounts"],
    },
    {
      who: "any other kube-system ServiceAccount (a pod in kube-system runs as it)",
      username: "system:serviceaccount:kube-system:default",
      groups: ["system:serviceaccounts"],
    },
    { who: "kube-system's CoreDNS", username: "system:serviceaccount:kube-system:coredns" },
    {
      who: "the cluster's administrator (labgrader's own client applies a project's manifests)",
      username: "kubernetes-admin",
      groups: ["kubeadm:cluster-admins", "system:authenticated"],
    },
    {
      who: "a user named like a node but not in system:nodes",
      username: "system:node:kind-control-plane",
      groups: ["system:authenticated"],
    },
  ])("bind $who", ({ username, groups }) => {
    for (const p of policies()) expect(applies(p, username, groups), p.metadata.name).toBe(true);
  });

  it.each([
    { who: "kube-controller-manager", username: "system:kube-controller-manager" },
    { who: "the scheduler", username: "system:kube-scheduler" },
    { who: "the API server's own loopback client", username: "system:apiserver" },
    { who: "the ReplicaSet controller", username: "system:serviceaccount:kube-system:replicaset-controller" },
    { who: "the garbage collector", username: "system:serviceaccount:kube-system:generic-garbage-collector" },
    {
      who: "the kubelet",
      username: "system:node:kind-control-plane",
      groups: ["system:nodes", "system:authenticated"],
    },
    {
      who: "kind's local-path provisioner",
      username: "system:serviceaccount:local-path-storage:local-path-provisioner-service-account",
    },
  ])("leave $who, Kubernetes itself, alone", ({ username, groups }) => {
    for (const p of policies()) expect(applies(p, username, groups), p.metadata.name).toBe(false);
  });

  it("refuse a privileged namespace label, and only that", () => {
    const check = policy("labgrader-namespace-pod-security").spec.validations[0]!.expression;
    const allowed = (labels?: Record<string, string>) =>
      compileCel(check, ["object"]).run({ object: { metadata: labels ? { labels } : {} } });
    expect(allowed({ "pod-security.kubernetes.io/enforce": "privileged" })).toEqual({ ok: true, value: false });
    expect(allowed({ "pod-security.kubernetes.io/enforce": "restricted" })).toEqual({ ok: true, value: true });
    expect(allowed()).toEqual({ ok: true, value: true });
  });
});
