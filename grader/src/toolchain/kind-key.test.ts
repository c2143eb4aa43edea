import { describe, expect, it } from "vitest";
import { nodeImageKey, type NodeImageInputs } from "./kind-key.ts";
import { dpkgVersion, parsePackageList } from "./kind-rootfs.ts";
import { needsRuncWrapper } from "./kind-image.ts";

const base: NodeImageInputs = {
  versions: { kubernetes: "v1.36.3", kind: "v0.33.0" },
  tag: "local/kind-node:v1.36.3",
  recipe: { revision: "1" },
  files: [
    { path: "kind/node/Dockerfile", sha256: "aa" },
    { path: "kind/kindnet-lite/kindnet-lite", sha256: "bb" },
  ],
};

describe("nodeImageKey", () => {
  const key = nodeImageKey(base);
  it("is 16 hex digits", () => {
    expect(key).toMatch(/^[0-9a-f]{16}$/);
  });
  it.each<[string, NodeImageInputs]>([
    ["files listed in another order", { ...base, files: [...base.files].reverse() }],
    ["versions listed in another order", { ...base, versions: { kind: "v0.33.0", kubernetes: "v1.36.3" } }],
  ])("does not change with %s", (_name, inputs) => {
    expect(nodeImageKey(inputs)).toBe(key);
  });
  it.each<[string, NodeImageInputs]>([
    ["a version", { ...base, versions: { ...base.versions, kubernetes: "v1.36.4" } }],
    ["the tag", { ...base, tag: "local/kind-node:dev" }],
    ["the recipe revision", { ...base, recipe: { revision: "2" } }],
    ["a file's content", { ...base, files: [{ path: "kind/node/Dockerfile", sha256: "ab" }, base.files[1]!] }],
    ["a file's name", { ...base, files: [{ path: "kind/node/Dockerfile2", sha256: "aa" }, base.files[1]!] }],
    ["a new file", { ...base, files: [...base.files, { path: "kind/images/x.Dockerfile", sha256: "cc" }] }],
  ])("changes with %s", (_name, inputs) => {
    expect(nodeImageKey(inputs)).not.toBe(key);
  });
});

describe("parsePackageList", () => {
  it("keeps one package a line, without comments and blanks", () => {
    expect(parsePackageList("# header\nsystemd\n\n  containerd  # Debian's\n#gone\nrunc\n")).toEqual([
      "systemd",
      "containerd",
      "runc",
    ]);
  });
});

describe("needsRuncWrapper", () => {
  it.each([
    ["this sandbox (no CAP_SYS_RESOURCE)", "Name:\tbash\nCapBnd:\t000001fffeffffff\n", true],
    ["a full bounding set", "CapBnd:\t000001ffffffffff\n", false],
    ["an older kernel's full set", "CapBnd:\t0000003fffffffff\n", false],
    ["no CapBnd line", "Name:\tbash\n", false],
  ])("%s", (_name, status, needed) => {
    expect(needsRuncWrapper(status)).toBe(needed);
  });
});

describe("dpkgVersion", () => {
  const status = `Package: postgresql-15
Status: install ok installed
Version: 15.18-0+deb12u1

Package: postgresql-15-jit
Status: deinstall ok config-files
Version: 15.1-1

Package: postgresql
Status: install ok installed
Version: 15+248
`;
  it.each([
    ["postgresql-15", "15.18-0+deb12u1"],
    ["postgresql", "15+248"],
    ["postgresql-15-jit", undefined],
    ["postgresql-1", undefined],
  ])("%s → %s", (pkg, version) => {
    expect(dpkgVersion(status, pkg)).toBe(version);
  });
});
