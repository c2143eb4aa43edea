import { createHash } from "node:crypto";
import { cp, copyFile, mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { KubeObjectSchema, type KubeObject } from "../engine/trace.ts";
import type { KubeClient } from "../kube/client.ts";
import { runCommand, runChecked } from "../process/command.ts";
import { DeployManifestError, planDeployment } from "./deploy-review.ts";
import { watchManagerPod } from "./manager-pod.ts";
import type { RunningManager } from "./manager.ts";

export interface InClusterDeployOptions {
  admin: KubeClient;
  /** Puts a local image into every node of the cluster (`kind load docker-image`). */
  loadImage: (image: string) => Promise<void>;
  /** kubectl, whose `kustomize` renders config/default as `make deploy` does. */
  kubectl: string;
  /** Environment for docker, tar and kubectl. */
  env: Record<string, string | undefined>;
  /** Where config/ is read from (the project, or a mutant's regenerated copy). */
  manifestsDir: string;
  /** The manager, built static (CGO_ENABLED=0) like the scaffold's Dockerfile builds it. */
  binary: string;
  /** Names the image; the attempt's id. */
  attempt: string;
  workDir: string;
  managerArgs: string[];
  labels: Record<string, string>;
  clock: () => number;
}

export interface InClusterOperator {
  namespace: string;
  serviceAccount: string;
  /** "system:serviceaccount:<ns>:<name>", for SubjectAccessReviews. */
  username: string;
  manager: RunningManager;
  /** What the review of config/default left out or changed. */
  findings: string[];
}

/** The image is the scaffold's Dockerfile's, made without a build: the static manager alone, run as 65532 like distroless' nonroot. */
async function buildManagerImage(options: InClusterDeployOptions): Promise<string> {
  const digest = createHash("sha256").update(await readFile(options.binary)).digest("hex").slice(0, 12);
  const image = `labgrader.local/operator-${options.attempt}:${digest}`;
  const root = join(options.workDir, "image");
  await mkdir(root, { recursive: true });
  await copyFile(options.binary, join(root, "manager"));
  const tarball = join(options.workDir, "image.tar");
  await runChecked("tar", ["-C", root, "--owner=0", "--group=0", "-cf", tarball, "manager"], { env: options.env });
  await runChecked("docker", ["import", "--change", "USER 65532:65532", "--change", 'ENTRYPOINT ["/manager"]', tarball, image], { env: options.env, timeoutMs: 120_000 });
  return image;
}

/** `kustomize build config/default`, on a copy so nothing is written into the project. */
export async function renderDefault(kubectl: string, manifestsDir: string, workDir: string, env: Record<string, string | undefined>): Promise<KubeObject[]> {
  const copy = join(workDir, "deploy");
  await cp(join(manifestsDir, "config"), join(copy, "config"), { recursive: true, dereference: false, verbatimSymlinks: true }).catch((e: unknown) => {
    throw new DeployManifestError(`the project has no config/ folder to deploy from`, { cause: e });
  });
  const result = await runCommand(kubectl, ["kustomize", join(copy, "config", "default")], { env, timeoutMs: 60_000 });
  if (result.code !== 0) throw new DeployManifestError(`kustomize could not render config/default:\n${result.stderr.trim().split("\n").slice(0, 20).join("\n")}`);
  return parseAllDocuments(result.stdout)
    .map((doc) => doc.toJS() as unknown)
    .filter((doc) => doc !== null && doc !== undefined)
    .map((doc, i) => {
      const parsed = KubeObjectSchema.safeParse(doc);
      if (!parsed.success) throw new DeployManifestError(`config/default renders document ${i + 1} that is not a Kubernetes object: ${parsed.error.issues[0]?.message}`);
      return parsed.data;
    });
}

/**
 * Deploys the operator as the course does (`make docker-build`, `kind load docker-image`,
 * `make deploy`), with the reviewed manifests: it then runs in its own pod, under its own
 * ServiceAccount and generated role, in a namespace that enforces Pod Security.
 */
export async function deployInCluster(options: InClusterDeployOptions): Promise<InClusterOperator> {
  const rendered = await renderDefault(options.kubectl, options.manifestsDir, options.workDir, options.env);
  const image = await buildManagerImage(options);
  try {
    await options.loadImage(image);
  } finally {
    // The node holds its own copy now; the host keeps none per attempt.
    await runCommand("docker", ["rmi", "--force", image], { env: options.env, timeoutMs: 60_000 });
  }
  const plan = planDeployment(rendered, { image, managerArgs: options.managerArgs, labels: options.labels });
  for (const object of plan.objects.filter((o) => o.kind !== "Deployment")) await options.admin.apply(object);
  const manager = watchManagerPod({ admin: options.admin, namespace: plan.namespace, deployment: plan.deployment, container: plan.container, logFile: join(options.workDir, "manager.log"), clock: options.clock });
  await options.admin.apply(plan.deployment).catch(async (e: unknown) => {
    await manager.stop();
    throw e;
  });
  return {
    namespace: plan.namespace,
    serviceAccount: plan.serviceAccount,
    username: `system:serviceaccount:${plan.namespace}:${plan.serviceAccount}`,
    manager,
    findings: plan.findings,
  };
}
