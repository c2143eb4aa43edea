import { join } from "node:path";
import type { PodSecurity } from "../engine/lab.ts";
import type { DEPLOYMENT_VARS } from "../engine/render.ts";
import type { KubeObject } from "../engine/trace.ts";
import type { KubeClient } from "../kube/client.ts";
import { watchResource } from "../kube/watch.ts";
import { createOwn, renderDefault } from "./deploy.ts";
import { identityOf, planDeployment } from "./deploy-review.ts";
import { writeServiceAccountKubeconfig } from "./identity.ts";
import { bridgePods, type PodBridge } from "./pod-bridge.ts";
import type { PolicyRule } from "./role-review.ts";
import type { SandboxSettings } from "./sandbox.ts";

export interface PodsDeployOptions {
  admin: KubeClient;
  /** kubectl, whose `kustomize` renders config/default as `make deploy` does. */
  kubectl: string;
  /** Environment for kubectl. */
  env: Record<string, string | undefined>;
  /** Where config/ is read from (the project, or a mutant's regenerated copy). */
  manifestsDir: string;
  binary: string;
  workDir: string;
  managerArgs: string[];
  managerEnv: Record<string, string>;
  labels: Record<string, string>;
  clock: () => number;
  podSecurity: PodSecurity;
  allowed?: PolicyRule[];
  sandbox: SandboxSettings;
  /** What a learner should read about a pod's manager. */
  finding: (text: string) => void;
  /** How long the Deployment's pods may take to run their managers (default 60 s). */
  podsTimeoutMs?: number;
  /** How long, once they run, a leader may take to hold a Lease (default 20 s). */
  leaderTimeoutMs?: number;
}

export interface PodsOperator {
  namespace: string;
  serviceAccount: string;
  /** "system:serviceaccount:<ns>:<name>", for SubjectAccessReviews. */
  username: string;
  manager: PodBridge;
  /** What the review of config/default left out or changed. */
  findings: string[];
  /** The scenarios' variables of a deployed lab. */
  vars: Record<keyof typeof DEPLOYMENT_VARS, string>;
}

/** The image a kwok pod names: nothing pulls it, the bridge runs the built manager for it. */
const POD_IMAGE = "labgrader.local/manager:bridged";
const NONE = "none";

type Lease = KubeObject & { spec?: { holderIdentity?: string } };

/** Resolves once `ready()` holds, checking every `everyMs`, or after `timeoutMs` either way; says which. */
async function until(ready: () => boolean, timeoutMs: number, everyMs = 200): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!ready()) {
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return true;
}

/**
 * The Lease a manager of the Deployment holds, and that manager's pod: controller-runtime's holder
 * identity is `<hostname>_<uuid>`, and a pod's hostname is its name. Undefined when none is held in time.
 */
async function leaderOf(
  admin: KubeClient,
  namespace: string,
  podPrefix: string,
  timeoutMs: number,
): Promise<{ lease: string; pod: string } | undefined> {
  let found: { lease: string; pod: string } | undefined;
  let done!: () => void;
  const seen = new Promise<void>((r) => (done = r));
  const watch = watchResource(
    admin,
    { apiVersion: "coordination.k8s.io/v1", kind: "Lease", namespace },
    {
      emitInitial: true,
      onEvent: (type, object) => {
        const holder = (object as Lease).spec?.holderIdentity ?? "";
        if (found || type === "DELETED" || !holder.startsWith(podPrefix)) return;
        found = { lease: object.metadata.name, pod: holder.split("_")[0]! };
        done();
      },
    },
  );
  const timer = setTimeout(done, timeoutMs);
  await seen;
  clearTimeout(timer);
  watch.stop();
  return found;
}

/**
 * For a lab about several managers, on a cluster without kubelets: config/default rendered and
 * reviewed (its replicas, leader election and PodDisruptionBudget kept), created as `make deploy`
 * would, and each of the Deployment's pods played by a sandboxed manager (pod-bridge.ts). Returns
 * once the pods' managers run and one of them leads, or once that took too long (the checks then
 * say what is missing).
 */
export async function deployAsPods(options: PodsDeployOptions): Promise<PodsOperator> {
  const rendered = await renderDefault(options.kubectl, options.manifestsDir, options.workDir, options.env);
  const plan = planDeployment(rendered, {
    image: POD_IMAGE,
    managerArgs: [],
    labels: options.labels,
    podSecurity: options.podSecurity,
    keepReplicas: true,
    ...(options.allowed ? { allowed: options.allowed } : {}),
  });
  for (const object of plan.objects.filter((o) => o.kind !== "Deployment")) await createOwn(options.admin, object);
  const kubeconfigPath = join(options.workDir, "operator.kubeconfig");
  await writeServiceAccountKubeconfig(options.admin, plan.namespace, plan.serviceAccount, kubeconfigPath);
  const manager = bridgePods({
    admin: options.admin,
    namespace: plan.namespace,
    deployment: plan.deployment,
    container: plan.container,
    binary: options.binary,
    kubeconfigPath,
    workDir: options.workDir,
    clock: options.clock,
    env: options.managerEnv,
    managerArgs: options.managerArgs,
    sandbox: options.sandbox,
    apiServer: options.admin.config.getCurrentCluster()?.server ?? "",
    finding: options.finding,
  });
  try {
    await createOwn(options.admin, plan.deployment);
    const replicas = (plan.deployment as { spec?: { replicas?: number } }).spec?.replicas ?? 1;
    await until(() => manager.running().length >= replicas, options.podsTimeoutMs ?? 60_000);
    const deployment = plan.deployment.metadata.name;
    const leader =
      manager.running().length > 0
        ? await leaderOf(options.admin, plan.namespace, `${deployment}-`, options.leaderTimeoutMs ?? 20_000)
        : undefined;
    if (!leader)
      options.finding(
        `No manager of Deployment ${plan.namespace}/${deployment} held a Lease in ${plan.namespace} within ${Math.round((options.leaderTimeoutMs ?? 20_000) / 1000)} s of ${manager.running().length === 0 ? "its pods being made (none of them ran a manager)" : "its managers starting"}: the checks on the leader and its failover read the Lease "none".`,
      );
    const pdb = plan.objects.find((o) => o.kind === "PodDisruptionBudget");
    return {
      ...identityOf(plan),
      manager,
      findings: plan.findings,
      vars: {
        operatorNamespace: plan.namespace,
        deployment,
        podDisruptionBudget: pdb?.metadata.name ?? NONE,
        lease: leader?.lease ?? NONE,
        leader: leader?.pod ?? NONE,
      },
    };
  } catch (e) {
    await manager.stop();
    throw e;
  }
}
