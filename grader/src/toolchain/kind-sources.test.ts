import { describe, expect, it } from "vitest";
import {
  containerdSandboxImage,
  debianMirror,
  kindManifests,
  parseAptSources,
  parseGoStringConsts,
  parseImageList,
} from "./kind-sources.ts";

const constCni = `package nodeimage

const kindnetdImage = "docker.io/kindest/kindnetd:v20260820-69b56db7"

var defaultCNIImages = []string{kindnetdImage}

const defaultCNIManifest = \`
kind: DaemonSet
spec:
  containers:
  - name: kindnet-cni
    image: \` + kindnetdImage + \`
    env:
    - name: POD_SUBNET
      value: {{ .PodSubnet }}
---
\`
`;

const constStorage = `package nodeimage

const storageProvisionerImage = "docker.io/kindest/local-path-provisioner:v20260820-69b56db7"
const storageHelperImage = "docker.io/kindest/local-path-helper:v20260131-7181c60a"

// image we need to preload
var defaultStorageImages = []string{storageProvisionerImage, storageHelperImage}

const defaultStorageManifest = \`
        - name: local-path-provisioner
          image: \` + storageProvisionerImage + \`
            - --helper-image
            - \` + storageHelperImage + \`
\`
`;

describe("parseGoStringConsts", () => {
  it.each([
    ['const a = "x"', "a", "x"],
    ['const a = "say \\"hi\\""', "a", 'say "hi"'],
    ["const a = `raw\nlines`", "a", "raw\nlines"],
    ['const b = "B"\nconst a = `[` + b + `]`', "a", "[B]"],
    ['const b = "B"\nconst a = `[` +\n\tb + "]"', "a", "[B]"],
  ])("%j defines %s = %j", (source, name, value) => {
    expect(parseGoStringConsts(source).get(name)).toBe(value);
  });
  it("skips constants it cannot evaluate", () => {
    const consts = parseGoStringConsts("const n = 3\nconst a = unknown + `x`\nconst ok = `y`");
    expect([...consts.keys()]).toEqual(["ok"]);
  });
});

describe("kindManifests", () => {
  const m = kindManifests(constCni, constStorage);
  it("substitutes kind's image constants into its manifests", () => {
    expect(m.cni).toContain("image: docker.io/kindest/kindnetd:v20260820-69b56db7\n");
    expect(m.storage).toContain("- docker.io/kindest/local-path-helper:v20260131-7181c60a\n");
  });
  it("keeps the template kind fills in at create time", () => {
    expect(m.cni).toContain("{{ .PodSubnet }}");
  });
  it("lists the images kind preloads, in kind's order", () => {
    expect(m.images).toEqual([
      "docker.io/kindest/kindnetd:v20260820-69b56db7",
      "docker.io/kindest/local-path-provisioner:v20260820-69b56db7",
      "docker.io/kindest/local-path-helper:v20260131-7181c60a",
    ]);
  });
  it("fails when kind renames what it reads", () => {
    expect(() => kindManifests(constCni.replace("defaultCNIImages", "cniImages"), constStorage)).toThrow(
      /defaultCNIImages/,
    );
  });
});

describe("containerdSandboxImage", () => {
  it.each([
    [
      '[plugins."io.containerd.grpc.v1.cri"]\n  sandbox_image = "registry.k8s.io/pause:3.10"\n',
      "registry.k8s.io/pause:3.10",
    ],
    ['sandbox_image="k8s.gcr.io/pause:3.2"', "k8s.gcr.io/pause:3.2"],
  ])("reads %j", (toml, image) => {
    expect(containerdSandboxImage(toml)).toBe(image);
  });
  it("fails without one", () => {
    expect(() => containerdSandboxImage("version = 2\n")).toThrow(/sandbox_image/);
  });
});

describe("parseImageList", () => {
  it("keeps image references and drops kubeadm's warnings", () => {
    const out =
      "W0101 12:00:00 warning: something\nregistry.k8s.io/kube-apiserver:v1.36.3\nregistry.k8s.io/coredns/coredns:v1.14.2\n\nregistry.k8s.io/etcd:3.6.8-0\n";
    expect(parseImageList(out)).toEqual([
      "registry.k8s.io/kube-apiserver:v1.36.3",
      "registry.k8s.io/coredns/coredns:v1.14.2",
      "registry.k8s.io/etcd:3.6.8-0",
    ]);
  });
});

describe("debianMirror", () => {
  const deb822 = `Types: deb
# http://snapshot.debian.org/archive/debian/20250520T000000Z
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
`;
  it.each([
    ["deb822", [deb822], "bookworm", "http://deb.debian.org/debian"],
    [
      "one-line",
      ["# comment\ndeb [arch=amd64] http://mirror.example/debian/ bookworm main\n"],
      "bookworm",
      "http://mirror.example/debian",
    ],
    [
      "security is not the suite",
      ["deb http://security.debian.org/debian-security bookworm-security main\n", deb822],
      "bookworm",
      "http://deb.debian.org/debian",
    ],
    [
      "a disabled stanza",
      ["Enabled: no\nTypes: deb\nURIs: http://off.example/debian\nSuites: bookworm\n", deb822],
      "bookworm",
      "http://deb.debian.org/debian",
    ],
    ["no source for the suite", [deb822], "trixie", undefined],
    ["deb-src only", ["deb-src http://deb.debian.org/debian bookworm main\n"], "bookworm", undefined],
  ])("%s", (_name, files, suite, mirror) => {
    expect(debianMirror(files, suite)).toBe(mirror);
  });
  it("reads every URI of a stanza", () => {
    expect(
      parseAptSources("Types: deb deb-src\nURIs: http://a/debian http://b/debian\nSuites: bookworm\n").map(
        (s) => s.uri,
      ),
    ).toEqual(["http://a/debian", "http://b/debian"]);
  });
});
