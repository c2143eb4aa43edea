import { describe, expect, it } from "vitest";
import { kindBinaryPath, kindBinarySpecs } from "./kind-binaries.ts";
import { loadVersions } from "./versions.ts";

describe("kind node binaries", () => {
  const v = loadVersions();
  const specs = kindBinarySpecs(v, "source-digest");
  const spec = (name: string) => specs.find((s) => s.name === name);
  it.each([
    ["kubelet", "-X k8s.io/component-base/version.gitVersion=v1.36.3"],
    ["kubeadm", "-X k8s.io/component-base/version.gitMinor=36"],
    ["kube-proxy", "-X k8s.io/component-base/version.gitTreeState=clean"],
    ["local-path-provisioner", `-X main.VERSION=${v.localPathProvisioner}`],
  ])("%s is built with %s", (name, flag) => {
    const build = spec(name)?.build;
    expect(build && "ldflags" in build ? build.ldflags : []).toContain(flag);
  });
  it("builds the node commands from the control plane's module, in one go build", () => {
    const node = specs.filter((s) => s.group === "kubernetes-node");
    expect(node.map((s) => s.name).sort()).toEqual(["kube-proxy", "kubeadm", "kubectl", "kubelet"]);
    expect(node.every((s) => s.build.kind === "module" && s.build.module === "kube")).toBe(true);
  });
  it.each([
    ["coredns", "github.com/coredns/coredns", v.coredns],
    ["kind", "sigs.k8s.io/kind", v.kind],
  ])("installs %s as %s@%s", (name, pkg, version) => {
    expect(spec(name)?.build).toMatchObject({ kind: "install", pkg, version });
  });
  it("keys the crictl stand-in on its source", () => {
    expect(spec("crictl")?.version).toBe("source-digest");
  });
  it("compiles pause statically from the Kubernetes module", () => {
    expect(spec("pause")?.build).toMatchObject({
      kind: "cc",
      module: "k8s.io/kubernetes",
      version: v.kubernetes,
      source: "build/pause/linux/pause.c",
    });
    const build = spec("pause")?.build;
    expect(build && "flags" in build ? build.flags : []).toContain("-static");
  });
  it("puts kind at a stable path under the cache", () => {
    expect(kindBinaryPath("/cache")).toBe("/cache/kind/bin/kind");
  });
});
