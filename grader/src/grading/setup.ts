import { chmod, mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { GradeProgress } from "../contracts.ts";
import type { Cluster } from "../clusters/provider.ts";
import type { Lab } from "../engine/lab.ts";
import type { AttemptVars, TemplateVars } from "../engine/render.ts";
import { PLATFORM_KINDS } from "../engine/objects.ts";
import type { KubeObject } from "../engine/trace.ts";
import { LearnerFault, messageChain, PlatformFault } from "../errors.ts";
import { describeShortage, saysDiskFull, shortOfDisk } from "../process/disk.ts";
import { createKubeClient, KubeApiError, type KubeClient } from "../kube/client.ts";
import { createRecorder, type Recorder } from "../kube/recorder.ts";
import { readCpuWaitedMs } from "../process/cpu-pressure.ts";
import { reviewCrds } from "../runner/crd-review.ts";
import { deployInCluster } from "../runner/deploy.ts";
import { deployAsPods } from "../runner/deploy-pods.ts";
import { DeployManifestError } from "../runner/deploy-error.ts";
import { createOperatorIdentity, type OperatorIdentity } from "../runner/identity.ts";
import { startManager, type RunningManager } from "../runner/manager.ts";
import { installCrds } from "../runner/operator.ts";
import { CRD_DIR, readCrds, readManagerRole, ROLE_FILE } from "../runner/project.ts";
import { createSandbox, prepareSandboxing, type Sandbox } from "../runner/sandbox.ts";
import { prepareOperator } from "../runner/source.ts";
import type { SlotLease, SlotPool } from "../process/host-slots.ts";
import type { ClusterWatch } from "./cluster-watch.ts";
import type { GradeOptions } from "./grade.ts";
import type { StallWatch } from "./stalls.ts";

// The phases that set a grade up, in order: the work folder, the build (while the cluster starts),
// the cluster made ready for the operator, and the operator running in it.

async function asLearnerFault<T>(what: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (e) {
    const learnerFault = !(e instanceof KubeApiError) || (e.status >= 400 && e.status < 500 && e.status !== 429);
    if (!learnerFault) throw e;
    throw new LearnerFault(`${what}: ${messageChain(e)}`, { cause: e });
  }
}

const kindsToRecord = (lab: Lab) => {
  const kinds = [
    { apiVersion: "apiextensions.k8s.io/v1", kind: "CustomResourceDefinition" },
    ...lab.resources.map((r) => ({ apiVersion: r.apiVersion, kind: r.kind })),
    ...PLATFORM_KINDS,
  ];
  return [...new Map(kinds.map((k) => [`${k.apiVersion}/${k.kind}`, k])).values()];
};

/** What every phase of one grade shares. */
export interface GradeContext {
  options: GradeOptions;
  attempt: string;
  /** Labels for everything the grade creates (managed-by, attempt id). */
  labels: Record<string, string>;
  clock: () => number;
  progress: (progress: GradeProgress) => void;
  /** Findings for the learner, in the order they were made; teardown adds its own. */
  findings: string[];
}

/**
 * Everything a grade made that must be cleaned up, noted the moment it exists, so that one
 * teardown cleans up after a failure in any phase.
 */
export interface Created {
  gradeSlot?: SlotLease;
  /** Settles with the cluster once provisioned, or undefined if provisioning failed. */
  cluster?: Promise<Cluster | undefined>;
  recorder?: Recorder;
  sandbox?: Sandbox;
  manager?: RunningManager;
  stalls?: StallWatch;
  clusterWatch?: ClusterWatch;
}

export const namespaceOf = (scenario: string, attempt: string) =>
  `${scenario}-${attempt}`.slice(0, 63).replace(/-+$/, "");
export const attemptVars = (grade: GradeContext, scenario: string, deployed?: TemplateVars): AttemptVars => ({
  namespace: namespaceOf(scenario, grade.attempt),
  attempt: grade.attempt,
  ...(deployed ? { deployed } : {}),
});

/** Waits for a slot of the host's budget, saying where in line this grade is while it waits. */
export async function waitTurn(
  grade: GradeContext,
  pool: SlotPool | undefined,
  slot: "grade" | "build",
): Promise<SlotLease | undefined> {
  if (!pool) return undefined;
  return pool.acquire(`${grade.options.operatorName} (${grade.attempt})`, {
    onWait: (wait) => grade.progress({ type: "waiting", slot, ...wait, at: grade.clock() }),
  });
}

export async function prepareWorkDir(options: GradeOptions): Promise<void> {
  await mkdir(options.workDir, { recursive: true });
  // A full disk fails a grade anywhere (the build, etcd, a copy) and in ways that can look like the
  // project's: a host that short is not gradable before anything starts.
  const short = await shortOfDisk([options.workDir]);
  if (short) throw new PlatformFault(`${describeShortage(short)}; it is graded again`);
  if (!options.sandbox || options.provider.operatorMode !== "host") return;
  // The sandbox uid must not read the build, the admin kubeconfig or other attempts.
  await chmod(options.workDir, 0o700);
  await prepareSandboxing(options.sandbox).catch((e: unknown) => {
    throw new PlatformFault(messageChain(e), { cause: e });
  });
}

export function startProvisioning(grade: GradeContext): Promise<Cluster> {
  const { provider } = grade.options;
  return provider.create({ labels: grade.labels }).catch((e: unknown) => {
    throw new PlatformFault(`could not provision a ${provider.name} cluster: ${messageChain(e)}`, { cause: e });
  });
}

/** The operator, built, with the CRDs and role it comes with. */
export interface Built {
  /** Where config/ is read from. */
  manifestsDir: string;
  binary: string;
  crds: KubeObject[];
  role: KubeObject;
}

/**
 * A build that failed writing for want of disk: ours, or one outside the sandbox, always fails on
 * the host's disk; a sandboxed one may have filled its own scratch space (its limit, the project's
 * doing), so it is the host's only when the host is short of disk now.
 */
async function buildRanOutOfHostDisk(grade: GradeContext, output: string): Promise<boolean> {
  if (!saysDiskFull(output)) return false;
  const { source, buildSandbox, workDir, goEnv } = grade.options;
  const sandboxed = buildSandbox !== undefined && source.kind === "project" && source.ours !== true;
  if (!sandboxed) return true;
  return (await shortOfDisk([workDir, goEnv.GOCACHE ?? workDir])) !== undefined;
}

/** Builds the manager and reads its CRDs and role: a project that does not build or has none fails here. */
export async function build(grade: GradeContext): Promise<Built> {
  const { options } = grade;
  const buildSlot = await waitTurn(grade, options.capacity?.builds, "build");
  const prepared = await prepareOperator(options.source, {
    workDir: options.workDir,
    goEnv: options.goEnv,
    controllerGen: options.controllerGen,
    buildTimeoutMs: options.buildTimeoutMs,
    ...(options.buildSandbox ? { sandbox: options.buildSandbox } : {}),
    ...(options.managerCache ? { managerCache: options.managerCache } : {}),
  }).finally(() => buildSlot?.release());
  const result = prepared.build;
  grade.progress({
    type: "build",
    ok: result.ok,
    timedOut: !result.ok && result.timedOut,
    durationMs: result.durationMs,
    at: grade.clock(),
  });
  if (!result.ok && result.timedOut) {
    throw new PlatformFault(
      `the operator's build did not finish within ${Math.round((options.buildTimeoutMs ?? result.durationMs) / 1000)} s (its time limit); a busy host can cause this, so it is graded again`,
    );
  }
  if (!result.ok && (await buildRanOutOfHostDisk(grade, result.output)))
    throw new PlatformFault(
      `the operator's build ran out of disk on this host, not for anything in the project; it is graded again:\n${result.output.split("\n").filter(saysDiskFull).slice(0, 3).join("\n")}`,
    );
  if (!result.ok)
    throw new LearnerFault(
      `The operator did not build: go build failed:\n${result.output.split("\n").slice(0, 40).join("\n")}`,
    );
  const crds = await asLearnerFault(`The project's CRDs (${CRD_DIR}) cannot be read`, () =>
    readCrds(prepared.manifestsDir),
  );
  const role = await asLearnerFault(`The project's role (${ROLE_FILE}) cannot be read`, () =>
    readManagerRole(prepared.manifestsDir),
  );
  return { manifestsDir: prepared.manifestsDir, binary: result.binary, crds, role };
}

/** The cluster, ready for the operator: its CRDs installed, its identity (for a host manager) made, every kind recorded. */
export interface Provisioned {
  cluster: Cluster;
  admin: KubeClient;
  /** The ServiceAccount a host manager runs as; an in-cluster manager's comes with its deploy. */
  hostIdentity?: OperatorIdentity;
  recorder: Recorder;
}

export async function provision(
  grade: GradeContext,
  created: Created,
  provisioning: Promise<Cluster>,
  built: Built,
): Promise<Provisioned> {
  const { options, findings } = grade;
  const cluster = await provisioning;
  grade.progress({ type: "phase", phase: "provisioning", at: grade.clock() });
  const admin = createKubeClient(cluster.kubeconfigPath);
  const crdReview = reviewCrds(built.crds, options.lab.resources);
  findings.push(...crdReview.findings);
  await asLearnerFault("The project's CRDs were refused by the API server", () => installCrds(admin, crdReview.kept));
  const inCluster = options.provider.operatorMode === "in-cluster";
  // A Deployment's managers run as its own ServiceAccount, made by its deploy.
  const hostIdentity =
    inCluster || options.lab.managers === "deployment"
      ? undefined
      : await createOperatorIdentity(
          admin,
          built.role,
          join(options.workDir, "operator.kubeconfig"),
          options.lab.permissions,
        );
  findings.push(...(hostIdentity?.roleFindings ?? []));
  const recorder = createRecorder(admin, kindsToRecord(options.lab), grade.clock, readCpuWaitedMs);
  created.recorder = recorder;
  await recorder.ready.catch((e: unknown) =>
    findings.push(`Some kinds could not be watched: ${e instanceof Error ? e.message : String(e)}`),
  );
  return { cluster, admin, recorder, ...(hostIdentity ? { hostIdentity } : {}) };
}

/** The running operator and who it acts as. */
export interface Deployed {
  manager: RunningManager;
  identity: { namespace: string; username: string };
  /** For a lab whose managers run as the project's Deployment: the names its deploy made (DEPLOYMENT_VARS). */
  vars?: TemplateVars;
  /** Faults of ours in running the managers (see PodBridge.problems): the grade is then not gradable. */
  problems?: () => string[];
}

/** As `make run` does: the manager as a host process, sandboxed if asked, with the kubeconfig of its own ServiceAccount. */
async function startHostManager(
  grade: GradeContext,
  created: Created,
  built: Built,
  admin: KubeClient,
  identity: OperatorIdentity,
): Promise<RunningManager> {
  const { options } = grade;
  if (options.sandbox) {
    const settings = options.sandbox;
    const server = admin.config.getCurrentCluster()?.server ?? "";
    created.sandbox = await createSandbox({
      settings,
      binary: built.binary,
      kubeconfigPath: identity.kubeconfigPath,
      apiServer: server,
    }).catch((e: unknown) => {
      throw new PlatformFault(`could not sandbox the operator: ${messageChain(e)}`, { cause: e });
    });
  }
  const { sandbox } = created;
  return startManager({
    binary: sandbox?.binary ?? built.binary,
    kubeconfigPath: sandbox?.kubeconfigPath ?? identity.kubeconfigPath,
    args: options.managerArgs,
    workDir: options.workDir,
    logFile: join(options.workDir, "manager.log"),
    clock: grade.clock,
    env: options.managerEnv,
    ...(sandbox ? { sandbox: sandbox.manager } : {}),
  });
}

/** A lab about several managers on kwok: the project's Deployment, each of its pods played by a sandboxed manager. */
async function deployPods(grade: GradeContext, built: Built, { admin }: Provisioned) {
  const { options, labels, clock } = grade;
  const sandbox = options.sandbox ?? options.podSandbox;
  if (!options.kubectl || !sandbox)
    throw new PlatformFault(
      `lab ${options.lab.id} runs its managers as the project's Deployment, which needs kubectl (to render config/default) and the sandbox (a pod's hostname) on the ${options.provider.name} provider; this grader has ${options.kubectl ? "no sandbox" : "no kubectl"}`,
    );
  try {
    return await deployAsPods({
      admin,
      kubectl: options.kubectl,
      env: options.goEnv,
      manifestsDir: built.manifestsDir,
      binary: built.binary,
      workDir: options.workDir,
      managerArgs: options.managerArgs,
      managerEnv: options.managerEnv,
      labels,
      clock,
      podSecurity: options.lab.podSecurity,
      sandbox,
      finding: (text) => grade.findings.push(text),
      ...(options.lab.permissions ? { allowed: options.lab.permissions } : {}),
    });
  } catch (e) {
    throw deployFault(e);
  }
}

/** What a failed deploy is: the learner's manifests refused, or our tools failing. */
function deployFault(e: unknown): Error {
  if (e instanceof DeployManifestError)
    return new LearnerFault(`The operator could not be deployed: ${e.message}`, { cause: e });
  const refused = e instanceof KubeApiError && e.status >= 400 && e.status < 500 && e.status !== 429;
  if (refused)
    return new LearnerFault(`The API server refused the operator's manifests (config/default): ${e.message}`, {
      cause: e,
    });
  // docker, kind or the API server failing is ours, not the learner's.
  return new PlatformFault(`could not deploy the operator into the cluster: ${messageChain(e)}`, { cause: e });
}

/** In the cluster, as `make deploy` does: the learner's manifests (reviewed) with the image labgrader built. */
async function deployIntoCluster(grade: GradeContext, built: Built, { admin, cluster }: Provisioned) {
  const { options, attempt, labels, clock } = grade;
  const { loadImage } = cluster;
  if (!options.kubectl || !loadImage)
    throw new PlatformFault(
      `the ${options.provider.name} provider runs operators in the cluster, but this grader has no kubectl or image loader for it`,
    );
  try {
    const allowed = options.lab.permissions ? { allowed: options.lab.permissions } : {};
    return await deployInCluster({
      admin,
      loadImage,
      kubectl: options.kubectl,
      env: options.goEnv,
      manifestsDir: built.manifestsDir,
      binary: built.binary,
      attempt,
      workDir: options.workDir,
      managerArgs: options.managerArgs,
      labels,
      clock,
      podSecurity: options.lab.podSecurity,
      ...allowed,
    });
  } catch (e) {
    throw deployFault(e);
  }
}

export async function deploy(
  grade: GradeContext,
  created: Created,
  built: Built,
  provisioned: Provisioned,
): Promise<Deployed> {
  grade.progress({ type: "phase", phase: "deploying", at: grade.clock() });
  const { hostIdentity } = provisioned;
  const { options } = grade;
  let deployed: Deployed;
  if (options.lab.managers === "deployment" && options.provider.operatorMode === "in-cluster")
    throw new PlatformFault(
      `lab ${options.lab.id} runs its managers as the project's Deployment, which is graded on kwok; the ${options.provider.name} provider runs one manager`,
    );
  if (options.lab.managers === "deployment") {
    const pods = await deployPods(grade, built, provisioned);
    grade.findings.push(...pods.findings);
    created.manager = pods.manager;
    deployed = { manager: pods.manager, identity: pods, vars: pods.vars, problems: pods.manager.problems };
  } else if (hostIdentity) {
    created.manager = await startHostManager(grade, created, built, provisioned.admin, hostIdentity);
    deployed = { manager: created.manager, identity: hostIdentity };
  } else {
    const inCluster = await deployIntoCluster(grade, built, provisioned);
    grade.findings.push(...inCluster.findings);
    created.manager = inCluster.manager;
    deployed = { manager: inCluster.manager, identity: inCluster };
  }
  deployed.manager.onLog((line) => provisioned.recorder.addLog(line));
  return deployed;
}
