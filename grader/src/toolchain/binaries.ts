import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { toolchainModuleDir, type Versions } from "./versions.ts";

/** The binaries labgrader needs; each is built from a pinned Go module when not found elsewhere. */
export type BinaryName =
  | "kube-apiserver"
  | "kube-controller-manager"
  | "kube-scheduler"
  | "kubectl"
  | "etcd"
  | "kwok"
  | "kwokctl"
  | "controller-gen"
  | "labgrader-seccomp";

export type GoBuild =
  /** `go build` inside one of grader/toolchain's modules. */
  | { kind: "module"; module: string; pkg: string; ldflags: string[] }
  /** `go install pkg@version`: for commands whose own module builds as it is. */
  | { kind: "install"; pkg: string; version: string; ldflags: string[] };

export interface BinarySpec {
  name: BinaryName;
  /** The version the binary must report; part of the cache key. */
  version: string;
  /** A group builds together in one `go build` (the Kubernetes commands share most packages). */
  group: string;
  build: GoBuild;
  /** Environment variable that points at an existing binary instead. */
  envOverride: string;
  /** envtest looks for these in KUBEBUILDER_ASSETS. */
  envtestAsset: boolean;
}

function kubeLdflags(version: string): string[] {
  const [major, minor] = version.slice(1).split(".");
  const pkg = "k8s.io/component-base/version";
  return [
    `-X ${pkg}.gitVersion=${version}`,
    `-X ${pkg}.gitMajor=${major}`,
    `-X ${pkg}.gitMinor=${minor}`,
    `-X ${pkg}.gitTreeState=clean`,
  ];
}

function envName(name: BinaryName): string {
  return `LABGRADER_${name.toUpperCase().replaceAll("-", "_")}`;
}

/** The sandbox's seccomp helper is ours: its version is a digest of its source, so a changed filter is rebuilt. */
function seccompVersion(): string {
  const source = readFileSync(join(toolchainModuleDir, "seccomp", "main.go"));
  return `src-${createHash("sha256").update(source).digest("hex").slice(0, 12)}`;
}

export function binarySpecs(v: Versions): BinarySpec[] {
  const seccomp = seccompVersion();
  const kube = (name: BinaryName): BinarySpec => ({
    name,
    version: v.kubernetes,
    group: "kubernetes",
    build: { kind: "module", module: "kube", pkg: `k8s.io/kubernetes/cmd/${name}`, ldflags: kubeLdflags(v.kubernetes) },
    envOverride: envName(name),
    envtestAsset: name === "kube-apiserver",
  });
  const kwokFlags = [
    `-X sigs.k8s.io/kwok/pkg/consts.Version=${v.kwok.slice(1)}`,
    `-X sigs.k8s.io/kwok/pkg/consts.KubeVersion=${v.kubernetes.slice(1)}`,
  ];
  return [
    kube("kube-apiserver"),
    kube("kube-controller-manager"),
    kube("kube-scheduler"),
    // kwokctl waits for a new cluster with `kubectl get --raw /healthz`, and downloads kubectl when none is on
    // its PATH; the pinned one is put first there. A group of its own: adding it rebuilds nothing else.
    { ...kube("kubectl"), group: "kubectl" },
    {
      name: "etcd",
      version: v.etcd,
      group: "etcd",
      build: { kind: "module", module: "etcd", pkg: ".", ldflags: [] },
      envOverride: envName("etcd"),
      envtestAsset: true,
    },
    ...(["kwok", "kwokctl"] as const).map((name): BinarySpec => ({
      name,
      version: v.kwok,
      group: "kwok",
      build: { kind: "install", pkg: `sigs.k8s.io/kwok/cmd/${name}`, version: v.kwok, ldflags: kwokFlags },
      envOverride: envName(name),
      envtestAsset: false,
    })),
    {
      name: "controller-gen",
      version: v.controllerTools,
      group: "controller-tools",
      build: {
        kind: "install",
        pkg: "sigs.k8s.io/controller-tools/cmd/controller-gen",
        version: v.controllerTools,
        ldflags: [],
      },
      envOverride: envName("controller-gen"),
      envtestAsset: false,
    },
    {
      name: "labgrader-seccomp",
      version: seccomp,
      group: "sandbox",
      build: { kind: "module", module: "seccomp", pkg: ".", ldflags: [`-X main.version=${seccomp}`] },
      envOverride: "LABGRADER_SECCOMP",
      envtestAsset: false,
    },
  ];
}
