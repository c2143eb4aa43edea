import { ensureKindBinaries } from "../toolchain/kind-binaries.ts";
import { ensureKindNodeImage, kindImageStatus, type KindImageOptions } from "../toolchain/kind-image.ts";
import { loadVersions } from "../toolchain/versions.ts";

export interface KindTools {
  kind: string;
  /** Renders a project's config/default (`kubectl kustomize`), at the pinned Kubernetes version. */
  kubectl: string;
}

/**
 * What grading on kind needs on this host: Docker, the node image (loaded from its cached archive
 * when Docker lost it), kind and kubectl. With build false nothing is built: a missing piece is an
 * error that says what to run.
 */
export async function prepareKind(opts: KindImageOptions, build: boolean): Promise<KindTools> {
  if (!build) {
    const status = await kindImageStatus(opts);
    const { missing } = await ensureKindBinaries(loadVersions(), opts, false, ["kind", "kubectl"]);
    const lacking = [...status.missing, ...missing.map((n) => `${n} (node binary)`)];
    if (status.state === "missing" || !status.dockerAnswers || missing.length > 0) {
      throw new Error(
        `this host cannot grade on kind yet: ${[...new Set(lacking)].join("; ")}; run \`bash scripts/kind-host.sh\` and \`labgrader toolchain kind\``,
      );
    }
  }
  const image = await ensureKindNodeImage(opts);
  const { paths } = await ensureKindBinaries(loadVersions(), opts, build, ["kind", "kubectl"]);
  return { kind: image.kind, kubectl: paths.kubectl };
}
