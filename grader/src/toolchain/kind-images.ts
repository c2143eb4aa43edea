import { chmodSync, copyFileSync, cpSync, linkSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { buildImage, docker, imageLabel, importRootfs, pipeline, type DockerEnv } from "./kind-docker.ts";
import type { ImageBuild } from "./kind-plan.ts";
import { kindToolchainDir, rootfsDir } from "./kind-rootfs.ts";

/** Every image the kind build makes carries the node image's cache key under this label. */
export const keyLabel = "io.labgrader.kind.key";

export interface ImageStepOptions {
  cacheDir: string;
  env: DockerEnv;
  log: (line: string) => void;
  key: string;
}

/** The local tags of the intermediate images; the key keeps two builds' intermediates apart. */
export function baseTags(key: string) {
  return {
    imgbase: `local/labgrader-kind-imgbase:${key}`,
    postgres: `local/labgrader-kind-postgres-base:${key}`,
    rootfs: `local/labgrader-kind-rootfs:${key}`,
    nodeBase: `local/labgrader-kind-node-base:${key}`,
  };
}

async function hasKey(tags: string[], opts: ImageStepOptions): Promise<boolean> {
  for (const tag of tags) if ((await imageLabel(tag, keyLabel, opts.env)) !== opts.key) return false;
  return true;
}

/** A fresh build-context folder under the cache. */
function contextDir(opts: ImageStepOptions, name: string): string {
  const dir = join(opts.cacheDir, "kind", "work", name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Hard links where possible: the kube binaries are large and the context is on the same disk. */
function place(src: string, dest: string): void {
  try {
    linkSync(src, dest);
  } catch {
    copyFileSync(src, dest);
  }
}

/** The three root filesystems as images: the component images' base, postgres's base, and the node's. */
export async function importBases(opts: ImageStepOptions): Promise<void> {
  const tags = baseTags(opts.key);
  const env = "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  const label = `LABEL ${keyLabel}=${opts.key}`;
  for (const [name, tag] of [
    ["imgbase", tags.imgbase],
    ["postgres", tags.postgres],
    ["node", tags.rootfs],
  ] as const) {
    if (await hasKey([tag], opts)) continue;
    opts.log(`  docker import ${name} root filesystem as ${tag}`);
    await importRootfs(rootfsDir(opts.cacheDir, name), tag, [env, label], opts.env);
  }
}

export interface ComponentInputs {
  builds: ImageBuild[];
  /** Binary name → path, for every binary a recipe names. */
  binaries: Record<string, string>;
  postgres: { major: string; packageVersion: string };
}

/** Builds every component image (one `docker build` per recipe, tagged with all its references). */
export async function buildComponents(inputs: ComponentInputs, opts: ImageStepOptions): Promise<string[]> {
  const tags = baseTags(opts.key);
  const images = join(kindToolchainDir, "images");
  const built: string[] = [];
  for (const b of inputs.builds) {
    if (await hasKey(b.tags, opts)) continue;
    const r = b.recipe;
    const name = "binary" in r ? r.binary : r.kind;
    const ctx = contextDir(opts, `image-${name}`);
    let dockerfile: string;
    const buildArgs: Record<string, string> = { BASE: tags.imgbase };
    switch (r.kind) {
      case "binary":
      case "static": {
        const src = inputs.binaries[r.binary];
        if (!src) throw new Error(`no binary ${r.binary} for the image ${b.tags.join(", ")}`);
        place(src, join(ctx, r.binary));
        dockerfile = join(images, r.kind === "binary" ? "binary.Dockerfile" : `${r.binary}.Dockerfile`);
        if (r.kind === "binary") buildArgs.BINARY = r.binary;
        break;
      }
      case "kindnetd":
        place(join(kindToolchainDir, "kindnet-lite", "kindnet-lite"), join(ctx, "kindnet-lite"));
        dockerfile = join(images, "kindnetd.Dockerfile");
        break;
      case "helper":
        dockerfile = join(images, "helper.Dockerfile");
        break;
      case "postgres":
        place(join(kindToolchainDir, "postgres", "docker-entrypoint.sh"), join(ctx, "docker-entrypoint.sh"));
        dockerfile = join(images, "postgres.Dockerfile");
        Object.assign(buildArgs, {
          BASE: tags.postgres,
          PG_MAJOR: inputs.postgres.major,
          PG_PACKAGE_VERSION: inputs.postgres.packageVersion,
        });
        break;
    }
    const started = Date.now();
    try {
      await buildImage(
        { context: ctx, dockerfile, tags: b.tags, buildArgs, labels: { [keyLabel]: opts.key } },
        opts.env,
      );
    } catch (e) {
      throw new Error(`while building the image ${b.tags.join(", ")}`, { cause: e });
    }
    opts.log(`  built ${b.tags.join(", ")} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    built.push(...b.tags);
  }
  return built;
}

export interface NodeBaseInputs {
  /** kind's images/base/files, from the kind module in the Go module cache. */
  kindBaseFiles: string;
  binaries: { kubeadm: string; kubelet: string; kubectl: string; crictl: string };
  manifests: { cni: string; storage: string };
  kubernetesVersion: string;
}

/** kind's base Dockerfile sets modes by path: its scripts 0755, everything else 0644. */
function normaliseModes(root: string): void {
  for (const entry of readdirSync(root, { recursive: true, withFileTypes: true })) {
    const full = join(entry.parentPath, entry.name);
    const rel = relative(root, full);
    if (entry.isDirectory()) chmodSync(full, 0o755);
    else if (entry.isFile()) chmodSync(full, /^(usr\/local\/bin|kind\/bin)\//.test(rel) ? 0o755 : 0o644);
  }
}

export async function buildNodeBase(inputs: NodeBaseInputs, opts: ImageStepOptions): Promise<void> {
  const tags = baseTags(opts.key);
  if (await hasKey([tags.nodeBase], opts)) return;
  const ctx = contextDir(opts, "node");
  const files = join(ctx, "base-files");
  // The module cache is read-only; the copy gets kind's modes so COPY brings them into the image.
  cpSync(inputs.kindBaseFiles, files, { recursive: true });
  normaliseModes(files);
  place(join(kindToolchainDir, "node", "customize.sh"), join(ctx, "customize.sh"));
  mkdirSync(join(ctx, "bin"));
  for (const [name, path] of Object.entries(inputs.binaries)) place(path, join(ctx, "bin", name));
  mkdirSync(join(ctx, "manifests"));
  // Written as kind ships them: kind fills in {{ .PodSubnet }} itself at create time.
  writeFileSync(join(ctx, "manifests", "default-cni.yaml"), inputs.manifests.cni);
  writeFileSync(join(ctx, "manifests", "default-storage.yaml"), inputs.manifests.storage);
  writeFileSync(join(ctx, "version"), `${inputs.kubernetesVersion}\n`);
  await buildImage(
    {
      context: ctx,
      dockerfile: join(kindToolchainDir, "node", "Dockerfile"),
      tags: [tags.nodeBase],
      buildArgs: { BASE: tags.rootfs },
      labels: { [keyLabel]: opts.key },
    },
    opts.env,
  );
}

/** Preloads `refs` into the node's containerd and commits the node image under `nodeImage`. */
export async function assembleNode(nodeImage: string, refs: string[], opts: ImageStepOptions): Promise<void> {
  const script = join(kindToolchainDir, "node", "assemble.sh");
  await pipeline(
    'exec "$@"',
    [script, baseTags(opts.key).nodeBase, nodeImage, `${keyLabel}=${opts.key}`, ...refs],
    opts.env,
  );
}

/** `docker save | zstd` to a temporary name, renamed once complete. */
export async function saveArchive(nodeImage: string, archive: string, opts: ImageStepOptions): Promise<void> {
  const partial = `${archive}.partial`;
  await pipeline('docker save "$1" | zstd -q -T0 -3 -c > "$2"', [nodeImage, partial], opts.env);
  await pipeline('mv "$1" "$2"', [partial, archive], opts.env);
}

export async function loadArchive(archive: string, opts: ImageStepOptions): Promise<void> {
  await pipeline('zstd -q -dc "$1" | docker load -q >/dev/null', [archive], opts.env);
}

/** Intermediate images of other keys and images left untagged by a rebuild; ones in use stay. */
export async function pruneStale(opts: ImageStepOptions): Promise<void> {
  const stale = (
    await docker(["images", "--filter", `label=${keyLabel}`, "--format", "{{.Repository}}:{{.Tag}}\t{{.ID}}"], opts.env)
  )
    .split("\n")
    .filter(Boolean)
    .filter((l) => l.startsWith("local/labgrader-kind-") && !l.split("\t")[0]?.endsWith(`:${opts.key}`))
    .map((l) => l.split("\t")[0] as string);
  if (stale.length > 0) await docker(["rmi", ...stale], opts.env).catch(() => undefined);
  await docker(["image", "prune", "-f", "--filter", `label=${keyLabel}`], opts.env).catch(() => undefined);
}
