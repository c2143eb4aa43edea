import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { withFileLock } from "../process/file-lock.ts";
import { runChecked } from "../process/command.ts";
import { ensureToolchain } from "./build.ts";
import {
  ensureKindBinaries,
  goModuleDir,
  isBinaryCurrent,
  kindBinaryPath,
  kindBinarySpecs,
  type KindToolchainOptions,
} from "./kind-binaries.ts";
import { dockerAnswers, imageLabel, imageSize } from "./kind-docker.ts";
import {
  assembleNode,
  buildComponents,
  buildNodeBase,
  importBases,
  keyLabel,
  loadArchive,
  pruneStale,
  saveArchive,
  type ImageStepOptions,
} from "./kind-images.ts";
import { digestTree, nodeImageKey, sha256 } from "./kind-key.ts";
import { nodeImageRefs, planImages } from "./kind-plan.ts";
import {
  ensureRootfs,
  installedPackageVersion,
  isRootfsCurrent,
  kindToolchainDir,
  rootfsDir,
  rootfsNames,
} from "./kind-rootfs.ts";
import { containerdSandboxImage, kindManifests, parseImageList } from "./kind-sources.ts";
import { createProgress, type Progress } from "./progress.ts";
import { loadVersions, toolchainModuleDir, type Versions } from "./versions.ts";

export { kindBinaryPath } from "./kind-binaries.ts";

/** Bump when the build logic in these files changes what ends up in the image. */
const recipeRevision = "1";

export interface KindImageOptions extends KindToolchainOptions {
  /** The node image's tag (GraderConfig.kindNodeImage, e.g. local/kind-node:v1.36.3). */
  nodeImage: string;
  /** apt's configuration folder, naming the Debian mirror debootstrap uses. */
  aptDir?: string;
  /** Tells how long each step has run; unset, a plain line on `log` every 30 s. */
  progress?: Progress;
}

export interface StepTiming {
  step: string;
  seconds: number;
}

export interface KindImageResult {
  nodeImage: string;
  key: string;
  /** present: docker had it; loaded: from the cached archive; built: from scratch (or from cached parts). */
  action: "present" | "loaded" | "built";
  /** The kind CLI at the pinned version. */
  kind: string;
  archive: string;
  /** Uncompressed size as docker reports it, and the cached archive's size. */
  sizeBytes: number;
  archiveBytes: number | undefined;
  steps: StepTiming[];
}

function kindDir(cacheDir: string): string {
  return join(cacheDir, "kind");
}

export function archivePath(cacheDir: string, nodeImage: string, key: string): string {
  const safe = nodeImage.replace(/[^\w.-]+/g, "_");
  return join(kindDir(cacheDir), "images", `${safe}-${key}.tar.zst`);
}

/** The node image's key: pinned versions, the tag, and every file that shapes the image. */
export function computeNodeImageKey(v: Versions, nodeImage: string): string {
  const kubeModule = join(toolchainModuleDir, "kube");
  return nodeImageKey({
    versions: {
      kubernetes: v.kubernetes,
      etcd: v.etcd,
      kind: v.kind,
      coredns: v.coredns,
      localPathProvisioner: v.localPathProvisioner,
      debianSuite: v.debianSuite,
    },
    tag: nodeImage,
    recipe: { revision: recipeRevision },
    files: [
      ...digestTree(kindToolchainDir, "kind"),
      ...digestTree(join(kubeModule, "crictl-lite"), "kube/crictl-lite"),
      ...["go.mod", "go.sum"].map((f) => ({ path: `kube/${f}`, sha256: sha256(readFileSync(join(kubeModule, f))) })),
    ],
  });
}

function timer(log: (line: string) => void, steps: StepTiming[], progress: Progress) {
  return async <T>(step: string, work: () => Promise<T>): Promise<T> => {
    log(`${step} …`);
    const task = progress.start(step);
    const result = await work().finally(() => task.end());
    const seconds = task.end() / 1000;
    steps.push({ step, seconds });
    log(`${step}: done in ${seconds.toFixed(1)} s`);
    return result;
  };
}

async function requireDocker(opts: KindImageOptions): Promise<void> {
  if (!(await dockerAnswers(opts.env)))
    throw new Error("no Docker daemon answers; run scripts/kind-host.sh (as root) first");
}

/**
 * Makes sure docker holds the kind node image for the pinned versions: nothing to do when it
 * has one carrying this build's key, `docker load` when the cached archive matches, otherwise a
 * build from local parts (Go module proxy and Debian mirror only), cached for next time.
 */
export async function ensureKindNodeImage(opts: KindImageOptions): Promise<KindImageResult> {
  mkdirSync(kindDir(opts.cacheDir), { recursive: true });
  const progress = opts.progress ?? createProgress({ log: opts.log });
  return withFileLock(join(kindDir(opts.cacheDir), "build.lock"), () => ensureLocked({ ...opts, progress }), {
    timeoutMs: 90 * 60_000,
  });
}

type WithProgress = KindImageOptions & { progress: Progress };

async function ensureLocked(opts: WithProgress): Promise<KindImageResult> {
  const v = loadVersions();
  const steps: StepTiming[] = [];
  const timed = timer(opts.log, steps, opts.progress);
  await requireDocker(opts);
  const key = computeNodeImageKey(v, opts.nodeImage);
  const archive = archivePath(opts.cacheDir, opts.nodeImage, key);
  const kind = await timed("kind CLI", async () => (await ensureKindBinaries(v, opts, true, ["kind"])).paths.kind);
  const result = async (action: KindImageResult["action"]): Promise<KindImageResult> => ({
    nodeImage: opts.nodeImage,
    key,
    action,
    kind,
    archive,
    sizeBytes: await imageSize(opts.nodeImage, opts.env),
    archiveBytes: existsSync(archive) ? statSync(archive).size : undefined,
    steps,
  });

  if ((await imageLabel(opts.nodeImage, keyLabel, opts.env)) === key) return result("present");
  if (existsSync(archive)) {
    await timed(`docker load ${archive}`, () => loadArchive(archive, { ...opts, key }));
    if ((await imageLabel(opts.nodeImage, keyLabel, opts.env)) === key) return result("loaded");
    opts.log(`the archive did not hold ${opts.nodeImage} with key ${key}; building instead`);
  }
  await build(v, key, opts, timed);
  await timed("cache archive (docker save | zstd)", async () => {
    mkdirSync(join(kindDir(opts.cacheDir), "images"), { recursive: true });
    await saveArchive(opts.nodeImage, archive, { ...opts, key });
    for (const f of readdirSync(join(kindDir(opts.cacheDir), "images"))) {
      const full = join(kindDir(opts.cacheDir), "images", f);
      if (full !== archive) rmSync(full, { force: true });
    }
  });
  await pruneStale({ ...opts, key });
  // The build contexts only held links to files kept elsewhere.
  rmSync(join(kindDir(opts.cacheDir), "work"), { recursive: true, force: true });
  return result("built");
}

type Timed = ReturnType<typeof timer>;

async function build(v: Versions, key: string, opts: WithProgress, timed: Timed): Promise<void> {
  const stepOpts: ImageStepOptions = { cacheDir: opts.cacheDir, env: opts.env, log: opts.log, key };
  // The Go builds are CPU-bound and the debootstraps wait on the network: run the two side by side.
  const [binaries] = await Promise.all([
    (async () => {
      const toolchain = await timed("control plane and etcd (labgrader toolchain)", () =>
        ensureToolchain({ cacheDir: opts.cacheDir, env: opts.env, log: opts.log, progress: opts.progress }),
      );
      const node = await timed("node binaries (Go module proxy, gcc)", () => ensureKindBinaries(v, opts));
      return { ...toolchain.toolchain.binaries, ...node.paths } as Record<string, string>;
    })(),
    timed("root filesystems (debootstrap)", () => ensureRootfs({ ...opts, suite: v.debianSuite })),
  ]);

  const kindSource = await goModuleDir("sigs.k8s.io/kind", v.kind, opts);
  const manifests = kindManifests(
    readFileSync(join(kindSource, "pkg/build/nodeimage/const_cni.go"), "utf8"),
    readFileSync(join(kindSource, "pkg/build/nodeimage/const_storage.go"), "utf8"),
  );
  const sandbox = containerdSandboxImage(
    readFileSync(join(kindSource, "images/base/files/etc/containerd/config.toml"), "utf8"),
  );
  const kubeadmList = parseImageList(
    (
      await runChecked(binaries.kubeadm as string, ["config", "images", "list", "--kubernetes-version", v.kubernetes], {
        env: opts.env,
      })
    ).stdout,
  );
  const coredns = kubeadmList.find((r) => r.includes("/coredns:"));
  if (coredns && !coredns.endsWith(`:${v.coredns}`))
    opts.log(`warning: kubeadm ${v.kubernetes} deploys ${coredns}, but versions.json pins CoreDNS ${v.coredns}`);
  const refs = nodeImageRefs(kubeadmList, sandbox, manifests.images);
  const builds = planImages(refs);

  const pgRoot = rootfsDir(opts.cacheDir, "postgres");
  const pgMajor = readdirSync(join(pgRoot, "usr/lib/postgresql")).sort().at(-1);
  const pgVersion = pgMajor ? installedPackageVersion(pgRoot, `postgresql-${pgMajor}`) : undefined;
  if (!pgMajor || !pgVersion)
    throw new Error(`the postgres root filesystem at ${pgRoot} holds no PostgreSQL server package`);

  await timed("image bases (docker import)", () => importBases(stepOpts));
  await timed(`component images (${refs.length} tags)`, () =>
    buildComponents({ builds, binaries, postgres: { major: pgMajor, packageVersion: pgVersion } }, stepOpts),
  );
  await timed("node base (kind's base files + fixes)", () =>
    buildNodeBase(
      {
        kindBaseFiles: join(kindSource, "images/base/files"),
        binaries: {
          kubeadm: binaries.kubeadm as string,
          kubelet: binaries.kubelet as string,
          kubectl: binaries.kubectl as string,
          crictl: binaries.crictl as string,
        },
        manifests,
        kubernetesVersion: v.kubernetes,
      },
      stepOpts,
    ),
  );
  await timed("preload images into containerd and commit", () => assembleNode(opts.nodeImage, refs, stepOpts));
}

export interface KindImageStatus {
  nodeImage: string;
  key: string;
  /** ready: docker has it; archived: `docker load` of the cached archive would do; missing: a build is needed. */
  state: "ready" | "archived" | "missing";
  dockerAnswers: boolean;
  kindBinary: string | undefined;
  /** What a build would have to make (binaries, root filesystems), or what the host lacks. */
  missing: string[];
  sizeBytes?: number;
  archive: string;
  archiveBytes?: number;
}

/** What `toolchain kind --check` reports: builds nothing, pulls nothing. */
export async function kindImageStatus(
  opts: KindImageOptions,
  procStatus = "/proc/self/status",
): Promise<KindImageStatus> {
  const v = loadVersions();
  const key = computeNodeImageKey(v, opts.nodeImage);
  const archive = archivePath(opts.cacheDir, opts.nodeImage, key);
  const answers = await dockerAnswers(opts.env);
  const missing: string[] = [];
  if (!answers) missing.push("a Docker daemon (run scripts/kind-host.sh)");
  if (needsRuncWrapper(readFileSync(procStatus, "utf8")) && !existsSync("/usr/local/sbin/runc")) {
    missing.push(
      "the runc wrapper at /usr/local/sbin/runc (this host lacks CAP_SYS_RESOURCE; run scripts/kind-host.sh)",
    );
  }
  const kindSpec = kindBinarySpecs(v).find((s) => s.name === "kind");
  const kindBinary = kindSpec && isBinaryCurrent(opts.cacheDir, kindSpec) ? kindBinaryPath(opts.cacheDir) : undefined;
  if (!kindBinary) missing.push(`kind ${v.kind}`);
  const label = answers ? await imageLabel(opts.nodeImage, keyLabel, opts.env) : undefined;
  const archived = existsSync(archive);
  const state = label === key ? "ready" : archived ? "archived" : "missing";
  if (state === "missing") {
    missing.push(
      label === undefined
        ? `the image ${opts.nodeImage}`
        : `the image ${opts.nodeImage} for key ${key} (docker has key ${label || "none"})`,
    );
    try {
      await ensureToolchain({ cacheDir: opts.cacheDir, env: opts.env, log: () => undefined }, false);
    } catch (e) {
      missing.push((e as Error).message.replace(/;.*/, "").replace(/^missing /, ""));
    }
    missing.push(
      ...(await ensureKindBinaries(v, opts, false)).missing.filter((n) => n !== "kind").map((n) => `node binary ${n}`),
    );
    missing.push(
      ...rootfsNames
        .filter((n) => !isRootfsCurrent({ cacheDir: opts.cacheDir, suite: v.debianSuite }, n))
        .map((n) => `${n} root filesystem`),
    );
  }
  return {
    nodeImage: opts.nodeImage,
    key,
    state,
    dockerAnswers: answers,
    kindBinary,
    missing,
    sizeBytes: label === key ? await imageSize(opts.nodeImage, opts.env) : undefined,
    archive,
    archiveBytes: archived ? statSync(archive).size : undefined,
  };
}

/** Whether /proc/<pid>/status shows a bounding set without CAP_SYS_RESOURCE (bit 24). */
export function needsRuncWrapper(procStatus: string): boolean {
  const hex = /^CapBnd:\s*([0-9a-f]+)$/im.exec(procStatus)?.[1];
  return hex !== undefined && (BigInt(`0x${hex}`) & (1n << 24n)) === 0n;
}
