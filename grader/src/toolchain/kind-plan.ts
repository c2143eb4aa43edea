/**
 * Which images a kind node must hold, and how each is made locally. Pure: the inputs are the
 * reference lists read from kubeadm, containerd's config and kind's manifests.
 */

/** How one image is made; each recipe names a Dockerfile under grader/toolchain/kind/images/. */
export type ImageRecipe =
  /** A Debian image base with one of our binaries in /usr/local/bin (kubeadm's manifests run it by name). */
  | { kind: "binary"; binary: string }
  /** A static binary alone at the root, as the upstream coredns and pause images are. */
  | { kind: "static"; binary: "coredns" | "pause" }
  /** kindnet-lite, our shell stand-in for kindnetd under kind's tag. */
  | { kind: "kindnetd" }
  /** local-path-provisioner's helper pod runs only sh, mkdir and rm: the image base as it is. */
  | { kind: "helper" }
  /** PostgreSQL from Debian's packages with an entrypoint that follows the official image's contract. */
  | { kind: "postgres" };

export interface ImageBuild {
  /** One image is built per recipe and given every tag that needs it (pause 3.10 and 3.10.2). */
  tags: string[];
  recipe: ImageRecipe;
}

/** The course's Database fixtures run this; it is not part of Kubernetes but must be in the node. */
export const workloadImages = ["docker.io/library/postgres:14"] as const;

/** The repository's last path element: `registry.k8s.io/coredns/coredns:v1.14.2` → `coredns`. */
export function imageName(ref: string): string {
  const withoutTag = ref.replace(/:[\w.-]+$/, "");
  return withoutTag.slice(withoutTag.lastIndexOf("/") + 1);
}

const binaryImages = new Set([
  "kube-apiserver",
  "kube-controller-manager",
  "kube-scheduler",
  "kube-proxy",
  "etcd",
  "local-path-provisioner",
]);

export function recipeFor(ref: string): ImageRecipe {
  const name = imageName(ref);
  if (binaryImages.has(name)) return { kind: "binary", binary: name };
  switch (name) {
    case "coredns":
    case "pause":
      return { kind: "static", binary: name };
    case "kindnetd":
      return { kind: "kindnetd" };
    case "local-path-helper":
      return { kind: "helper" };
    case "postgres":
      return { kind: "postgres" };
    default:
      throw new Error(
        `no local recipe for the image ${ref}; kubeadm or kind now expects an image labgrader does not build`,
      );
  }
}

function recipeKey(recipe: ImageRecipe): string {
  return "binary" in recipe ? `${recipe.kind}:${recipe.binary}` : recipe.kind;
}

/** Every image to build, grouped by recipe, from the references the node needs (duplicates are fine). */
export function planImages(refs: readonly string[]): ImageBuild[] {
  const byRecipe = new Map<string, ImageBuild>();
  for (const ref of [...new Set(refs)]) {
    const recipe = recipeFor(ref);
    const key = recipeKey(recipe);
    const build = byRecipe.get(key);
    if (build) build.tags.push(ref);
    else byRecipe.set(key, { tags: [ref], recipe });
  }
  return [...byRecipe.values()];
}

/** The binaries the component images need, so the builder can check it has them all. */
export function binariesForImages(builds: readonly ImageBuild[]): string[] {
  return builds.flatMap((b) => ("binary" in b.recipe ? [b.recipe.binary] : []));
}

/** The references a node needs: kubeadm's list, containerd's sandbox image, kind's manifest images and the workloads. */
export function nodeImageRefs(
  kubeadmImages: readonly string[],
  sandboxImage: string,
  kindImages: readonly string[],
): string[] {
  return [...new Set([...kubeadmImages, sandboxImage, ...kindImages, ...workloadImages])];
}
