import { createHash } from "node:crypto";
import { cp, copyFile, mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { KubeObjectSchema, type KubeObject } from "../engine/trace.ts";
import type { PodSecurity } from "../engine/lab.ts";
import { KubeApiError, type KubeClient } from "../kube/client.ts";
import { runCommand, runChecked } from "../process/command.ts";
import { DeployManifestError } from "./deploy-error.ts";
import { MANAGER_UID } from "./deploy-pod-review.ts";
import { identityOf, planDeployment } from "./deploy-review.ts";
import { checkKustomizations, kustomizeEnv } from "./kustomize-review.ts";
import type { PolicyRule } from "./role-review.ts";
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
  /** What an operator of the lab may be granted (see deploy-review.ts). */
  allowed?: PolicyRule[];
  /** Pod Security the operator's namespace enforces (the lab's podSecurity). */
  podSecurity: PodSecurity;
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
  const digest = createHash("sha256")
    .update(await readFile(options.binary))
    .digest("hex")
    .slice(0, 12);
  const image = `labgrader.local/operator-${options.attempt}:${digest}`;
  const root = join(options.workDir, "image");
  await mkdir(root, { recursive: true });
  await copyFile(options.binary, join(root, "manager"));
  const tarball = join(options.workDir, "image.tar");
  await runChecked("tar", ["-C", root, "--owner=0", "--group=0", "-cf", tarball, "manager"], { env: options.env });
  await runChecked(
    "docker",
    ["import", "--change", `USER ${MANAGER_UID}:${MANAGER_UID}`, "--change", 'ENTRYPOINT ["/manager"]', tarball, image],
    { env: options.env, timeoutMs: 120_000 },
  );
  return image;
}

/**
 * `kustomize build config/default`, on a copy so nothing is written into the project, once every
 * kustomization in it was found to name only the project's own files (kustomize-review.ts).
 */
export async function renderDefault(
  kubectl: string,
  manifestsDir: string,
  workDir: string,
  env: Record<string, string | undefined>,
): Promise<KubeObject[]> {
  const copy = join(workDir, "deploy");
  await cp(join(manifestsDir, "config"), join(copy, "config"), {
    recursive: true,
    dereference: false,
    verbatimSymlinks: true,
  }).catch((e: unknown) => {
    throw new DeployManifestError(`the project has no config/ folder to deploy from`, { cause: e });
  });
  const refused = await checkKustomizations(copy);
  if (refused.length > 0)
    throw new DeployManifestError(`config/default was not rendered:\n${refused.slice(0, 20).join("\n")}`);
  const home = await mkdtemp(join(workDir, "kustomize-home-"));
  const args = ["kustomize", "--load-restrictor", "LoadRestrictionsRootOnly", join(copy, "config", "default")];
  const result = await runCommand(kubectl, args, { env: kustomizeEnv(env.PATH, home), timeoutMs: 60_000 }).finally(() =>
    rm(home, { recursive: true, force: true }),
  );
  if (result.code !== 0)
    throw new DeployManifestError(
      `kustomize could not render config/default:\n${result.stderr.trim().split("\n").slice(0, 20).join("\n")}`,
    );
  return parseAllDocuments(result.stdout)
    .map((doc) => doc.toJS() as unknown)
    .filter((doc) => doc !== null && doc !== undefined)
    .map((doc, i) => {
      const parsed = KubeObjectSchema.safeParse(doc);
      if (!parsed.success)
        throw new DeployManifestError(
          `config/default renders document ${i + 1} that is not a Kubernetes object: ${parsed.error.issues[0]?.message}`,
        );
      return parsed.data;
    });
}

/** Creates what the project asked for, never changing an object labgrader did not make. */
export async function createOwn(admin: KubeClient, object: KubeObject): Promise<void> {
  try {
    await admin.create(object);
  } catch (e) {
    if (!(e instanceof KubeApiError && e.status === 409)) throw e;
    const where = object.metadata.namespace
      ? `${object.metadata.namespace}/${object.metadata.name}`
      : object.metadata.name;
    throw new DeployManifestError(
      `${object.kind} ${where} already exists in the cluster; labgrader creates only the project's own objects and never changes one it did not make, so the operator was not deployed (give it a name of the project's own)`,
      { cause: e },
    );
  }
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
  const plan = planDeployment(rendered, {
    image,
    managerArgs: options.managerArgs,
    labels: options.labels,
    podSecurity: options.podSecurity,
    ...(options.allowed ? { allowed: options.allowed } : {}),
  });
  for (const object of plan.objects.filter((o) => o.kind !== "Deployment")) await createOwn(options.admin, object);
  const manager = watchManagerPod({
    admin: options.admin,
    namespace: plan.namespace,
    deployment: plan.deployment,
    container: plan.container,
    logFile: join(options.workDir, "manager.log"),
    clock: options.clock,
  });
  await createOwn(options.admin, plan.deployment).catch(async (e: unknown) => {
    await manager.stop();
    throw e;
  });
  return {
    ...identityOf(plan),
    manager,
    findings: plan.findings,
  };
}
