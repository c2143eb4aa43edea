import { describe, expect, it } from "vitest";
import { binarySpecs } from "./binaries.ts";
import { loadVersions } from "./versions.ts";

describe("toolchain binaries", () => {
  const specs = binarySpecs(loadVersions());
  it.each([
    ["kube-apiserver", "-X k8s.io/component-base/version.gitVersion=v1.36.3"],
    ["kube-scheduler", "-X k8s.io/component-base/version.gitMinor=36"],
    ["kwokctl", "-X sigs.k8s.io/kwok/pkg/consts.KubeVersion=1.36.3"],
  ])("%s is built with %s", (name, flag) => {
    expect(specs.find((s) => s.name === name)?.build.ldflags).toContain(flag);
  });
  it("offers envtest exactly etcd and kube-apiserver", () => {
    expect(
      specs
        .filter((s) => s.envtestAsset)
        .map((s) => s.name)
        .sort(),
    ).toEqual(["etcd", "kube-apiserver"]);
  });
  it("names one override variable per binary", () => {
    expect(specs.map((s) => s.envOverride)).toContain("LABGRADER_KUBE_APISERVER");
    expect(new Set(specs.map((s) => s.envOverride)).size).toBe(specs.length);
  });
});
