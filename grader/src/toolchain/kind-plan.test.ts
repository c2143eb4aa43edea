import { describe, expect, it } from "vitest";
import { binariesForImages, imageName, nodeImageRefs, planImages, recipeFor } from "./kind-plan.ts";

const kubeadm136 = [
  "registry.k8s.io/kube-apiserver:v1.36.3",
  "registry.k8s.io/kube-controller-manager:v1.36.3",
  "registry.k8s.io/kube-scheduler:v1.36.3",
  "registry.k8s.io/kube-proxy:v1.36.3",
  "registry.k8s.io/coredns/coredns:v1.14.2",
  "registry.k8s.io/pause:3.10.2",
  "registry.k8s.io/etcd:3.6.8-0",
];
const kind033 = [
  "docker.io/kindest/kindnetd:v20260820-69b56db7",
  "docker.io/kindest/local-path-provisioner:v20260820-69b56db7",
  "docker.io/kindest/local-path-helper:v20260131-7181c60a",
];

describe("recipeFor", () => {
  it.each([
    ["registry.k8s.io/kube-apiserver:v1.36.3", { kind: "binary", binary: "kube-apiserver" }],
    ["registry.k8s.io/kube-proxy:v1.36.3", { kind: "binary", binary: "kube-proxy" }],
    ["registry.k8s.io/etcd:3.6.8-0", { kind: "binary", binary: "etcd" }],
    ["registry.k8s.io/coredns/coredns:v1.14.2", { kind: "static", binary: "coredns" }],
    ["registry.k8s.io/pause:3.10", { kind: "static", binary: "pause" }],
    ["docker.io/kindest/kindnetd:v20260820-69b56db7", { kind: "kindnetd" }],
    [
      "docker.io/kindest/local-path-provisioner:v20260820-69b56db7",
      { kind: "binary", binary: "local-path-provisioner" },
    ],
    ["docker.io/kindest/local-path-helper:v20260131-7181c60a", { kind: "helper" }],
    ["docker.io/library/postgres:14", { kind: "postgres" }],
  ])("%s is made as %j", (ref, recipe) => {
    expect(recipeFor(ref)).toEqual(recipe);
  });
  it("refuses an image it cannot make, naming it", () => {
    expect(() => recipeFor("registry.k8s.io/metrics-server:v0.8.0")).toThrow(/metrics-server:v0\.8\.0/);
  });
});

describe("imageName", () => {
  it.each([
    ["registry.k8s.io/coredns/coredns:v1.14.2", "coredns"],
    ["localhost:5000/pause:3.10", "pause"],
    ["postgres:14", "postgres"],
  ])("%s → %s", (ref, name) => {
    expect(imageName(ref)).toBe(name);
  });
});

describe("planImages for kubeadm 1.36 and kind 0.33", () => {
  const refs = nodeImageRefs(kubeadm136, "registry.k8s.io/pause:3.10", kind033);
  const plan = planImages(refs);
  it("needs every image kubeadm, containerd and kind name, and postgres for the course", () => {
    expect(refs).toHaveLength(12);
    expect(refs).toContain("registry.k8s.io/pause:3.10");
    expect(refs).toContain("docker.io/library/postgres:14");
  });
  it("builds pause once and tags it for both kubeadm and containerd", () => {
    const pause = plan.filter((b) => b.recipe.kind === "static" && b.recipe.binary === "pause");
    expect(pause).toEqual([
      {
        tags: ["registry.k8s.io/pause:3.10.2", "registry.k8s.io/pause:3.10"],
        recipe: { kind: "static", binary: "pause" },
      },
    ]);
  });
  it("gives every reference exactly one build", () => {
    expect(plan.flatMap((b) => b.tags).sort()).toEqual([...refs].sort());
  });
  it("names the binaries the images need", () => {
    expect(binariesForImages(plan).sort()).toEqual([
      "coredns",
      "etcd",
      "kube-apiserver",
      "kube-controller-manager",
      "kube-proxy",
      "kube-scheduler",
      "local-path-provisioner",
      "pause",
    ]);
  });
});

describe("nodeImageRefs", () => {
  it("lists a reference once even when two sources name it", () => {
    expect(nodeImageRefs(["registry.k8s.io/pause:3.10"], "registry.k8s.io/pause:3.10", [])).toEqual([
      "registry.k8s.io/pause:3.10",
      "docker.io/library/postgres:14",
    ]);
  });
});
