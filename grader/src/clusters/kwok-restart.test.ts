import { describe, expect, it } from "vitest";
import { componentSpec } from "./kwok-restart.ts";

const kwokYaml = `apiVersion: config.kwok.x-k8s.io/v1alpha1
components:
- args:
  - --name=node0
  binary: /cache/kwok/clusters/lg-1/bin/etcd
  name: etcd
  workDir: /cache/kwok/clusters/lg-1
- args:
  - --kubeconfig=/cache/kwok/clusters/lg-1/kubeconfig.yaml
  - --leader-elect=false
  binary: /cache/kwok/clusters/lg-1/bin/kube-controller-manager
  command:
  - kube-controller-manager
  name: kube-controller-manager
  workDir: /cache/kwok/clusters/lg-1
kind: KwokctlConfiguration
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: node-initialize
`;

describe("componentSpec", () => {
  it("reads a component's binary, arguments and folder from kwokctl's record of the cluster", () => {
    expect(componentSpec(kwokYaml, "kube-controller-manager")).toEqual({
      name: "kube-controller-manager",
      binary: "/cache/kwok/clusters/lg-1/bin/kube-controller-manager",
      args: ["--kubeconfig=/cache/kwok/clusters/lg-1/kubeconfig.yaml", "--leader-elect=false"],
      workDir: "/cache/kwok/clusters/lg-1",
    });
  });

  it("refuses a component the record does not name", () => {
    expect(() => componentSpec(kwokYaml, "kube-scheduler")).toThrow(/names no kube-scheduler/);
  });
});
