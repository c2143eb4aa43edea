import { accessSync, constants, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runChecked } from "../process/command.ts";
import { binarySpecs, type GoBuild } from "./binaries.ts";
import { digestTree, sha256 } from "./kind-key.ts";
import { toolchainModuleDir, type Versions } from "./versions.ts";

/** The binaries a kind node image needs beyond the control plane and etcd, which `labgrader toolchain` builds. */
export type KindBinaryName =
  "kubelet" | "kubeadm" | "kubectl" | "kube-proxy" | "crictl" | "coredns" | "local-path-provisioner" | "pause" | "kind";

export type KindBuild =
  | GoBuild
  /** A C program from a Go module's files (pause.c ships in the k8s.io/kubernetes module zip). */
  | { kind: "cc"; module: string; version: string; source: string; flags: string[] };

export interface KindBinarySpec {
  name: KindBinaryName;
  /** Part of the cache key, with the recipe; for our own code it is a digest of the source. */
  version: string;
  /** Binaries of one group build in one `go build`, sharing the compile of common packages. */
  group: string;
  build: KindBuild;
}

export interface KindToolchainOptions {
  /** labgrader's cache folder; these binaries go to <cacheDir>/kind/bin. */
  cacheDir: string;
  /** The environment for `go` and `gcc` (GOPROXY, GOFLAGS, PATH, …). */
  env: Readonly<Record<string, string | undefined>>;
  log: (line: string) => void;
}

/** Where `kind` is once built: a stable path the kind cluster provider can be given. */
export function kindBinaryPath(cacheDir: string): string {
  return join(kindBinDir(cacheDir), "kind");
}

export function kindBinDir(cacheDir: string): string {
  return join(cacheDir, "kind", "bin");
}

const crictlSourceDir = join(toolchainModuleDir, "kube", "crictl-lite");

export function kindBinarySpecs(v: Versions, crictlSource = crictlDigest()): KindBinarySpec[] {
  // The node binaries must carry exactly the version stamp the control plane does.
  const kubeFlags = binarySpecs(v).find((s) => s.name === "kube-apiserver")?.build.ldflags ?? [];
  const kube = (name: "kubelet" | "kubeadm" | "kubectl" | "kube-proxy"): KindBinarySpec => ({
    name,
    version: v.kubernetes,
    group: "kubernetes-node",
    build: { kind: "module", module: "kube", pkg: `k8s.io/kubernetes/cmd/${name}`, ldflags: kubeFlags },
  });
  const install = (name: KindBinaryName, pkg: string, version: string, ldflags: string[] = []): KindBinarySpec => ({
    name,
    version,
    group: name,
    build: { kind: "install", pkg, version, ldflags },
  });
  return [
    kube("kubelet"),
    kube("kubeadm"),
    kube("kubectl"),
    kube("kube-proxy"),
    {
      name: "crictl",
      version: crictlSource,
      group: "crictl",
      build: { kind: "module", module: "kube", pkg: "./crictl-lite", ldflags: [] },
    },
    install("coredns", "github.com/coredns/coredns", v.coredns),
    install("local-path-provisioner", "github.com/rancher/local-path-provisioner", v.localPathProvisioner, [
      `-X main.VERSION=${v.localPathProvisioner}`,
    ]),
    install("kind", "sigs.k8s.io/kind", v.kind),
    {
      name: "pause",
      version: v.kubernetes,
      group: "pause",
      build: {
        kind: "cc",
        module: "k8s.io/kubernetes",
        version: v.kubernetes,
        source: "build/pause/linux/pause.c",
        flags: ["-Os", "-Wall", "-Werror", "-static", `-DVERSION=${v.kubernetes}`],
      },
    },
  ];
}

function crictlDigest(): string {
  return sha256(JSON.stringify(digestTree(crictlSourceDir, "crictl-lite"))).slice(0, 16);
}

function stampPath(cacheDir: string, name: KindBinaryName): string {
  return join(cacheDir, "kind", "stamps", `bin-${name}`);
}

function buildKey(spec: KindBinarySpec): string {
  return JSON.stringify({ version: spec.version, build: spec.build });
}

/** A binary is current when it is executable and its stamp records this version and recipe. */
export function isBinaryCurrent(cacheDir: string, spec: KindBinarySpec): boolean {
  try {
    accessSync(join(kindBinDir(cacheDir), spec.name), constants.X_OK);
  } catch {
    return false;
  }
  const stamp = stampPath(cacheDir, spec.name);
  return existsSync(stamp) && readFileSync(stamp, "utf8") === buildKey(spec);
}

/** The directory of a module version in the Go module cache, downloading it through the proxy if needed. */
export async function goModuleDir(module: string, version: string, opts: KindToolchainOptions): Promise<string> {
  const { stdout } = await runChecked("go", ["mod", "download", "-json", `${module}@${version}`], {
    cwd: opts.cacheDir,
    env: { ...opts.env, GOFLAGS: "-mod=mod" },
  });
  const dir = (JSON.parse(stdout) as { Dir?: string }).Dir;
  if (!dir) throw new Error(`go mod download ${module}@${version} gave no directory`);
  return dir;
}

async function buildGroup(specs: KindBinarySpec[], opts: KindToolchainOptions): Promise<void> {
  const first = specs[0];
  if (!first) return;
  const out = kindBinDir(opts.cacheDir);
  const env = { ...opts.env, CGO_ENABLED: "0", GOBIN: out };
  const build = first.build;
  if (build.kind === "cc") {
    const dir = await goModuleDir(build.module, build.version, opts);
    await runChecked("gcc", [...build.flags, "-o", join(out, first.name), join(dir, build.source)], { env: opts.env });
    return;
  }
  const ldflags = `-ldflags=${["-s", "-w", ...build.ldflags].join(" ")}`;
  if (build.kind === "module") {
    const pkgs = specs.map((s) => (s.build.kind === "module" ? s.build.pkg : ""));
    const target = pkgs.length === 1 ? join(out, first.name) : `${out}/`;
    await runChecked("go", ["build", "-trimpath", ldflags, "-o", target, ...pkgs], {
      cwd: join(toolchainModuleDir, build.module),
      env,
    });
  } else {
    await runChecked("go", ["install", "-trimpath", ldflags, `${build.pkg}@${build.version}`], {
      cwd: opts.cacheDir,
      env,
    });
  }
}

/**
 * Builds what is missing or stale of `names` (all node binaries by default) and returns every
 * binary's path. With build false it builds nothing and only lists what is missing.
 */
export async function ensureKindBinaries(
  v: Versions,
  opts: KindToolchainOptions,
  build = true,
  names?: readonly KindBinaryName[],
): Promise<{ paths: Record<KindBinaryName, string>; built: KindBinaryName[]; missing: KindBinaryName[] }> {
  mkdirSync(kindBinDir(opts.cacheDir), { recursive: true });
  mkdirSync(join(opts.cacheDir, "kind", "stamps"), { recursive: true });
  const specs = kindBinarySpecs(v).filter((s) => !names || names.includes(s.name));
  const missing = specs.filter((s) => !isBinaryCurrent(opts.cacheDir, s));
  const paths = Object.fromEntries(
    kindBinarySpecs(v).map((s) => [s.name, join(kindBinDir(opts.cacheDir), s.name)]),
  ) as Record<KindBinaryName, string>;
  if (!build) return { paths, built: [], missing: missing.map((s) => s.name) };
  for (const group of Map.groupBy(missing, (s) => s.group).values()) {
    const started = Date.now();
    const label = `${group.map((s) => s.name).join(", ")} ${group[0]?.version}`;
    opts.log(`  building ${label}`);
    try {
      await buildGroup(group, opts);
    } catch (e) {
      throw new Error(`while building ${label} for the kind node image`, { cause: e });
    }
    for (const spec of group) writeFileSync(stampPath(opts.cacheDir, spec.name), buildKey(spec));
    opts.log(`  built ${label} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
  return { paths, built: missing.map((s) => s.name), missing: [] };
}
