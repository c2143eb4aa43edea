import { randomBytes } from "node:crypto";
import { messageChain } from "../errors.ts";
import { chmod, mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { CheckResult, GradeProgress, GradeResult } from "../contracts.ts";
import type { Cluster, ClusterProvider } from "../clusters/provider.ts";
import type { Lab } from "../engine/lab.ts";
import { PLATFORM_KINDS } from "../engine/objects.ts";
import { probeFor } from "../engine/registry.ts";
import { clusterChecks, renderScenario, type RenderedCheck } from "../engine/render.ts";
import { createKubeClient, KubeApiError, type KubeClient } from "../kube/client.ts";
import { runProbe, serviceAccountGroups } from "../kube/probes.ts";
import { createRecorder, type Recorder } from "../kube/recorder.ts";
import { deployInCluster } from "../runner/deploy.ts";
import { DeployManifestError } from "../runner/deploy-error.ts";
import { createOperatorIdentity } from "../runner/identity.ts";
import { startManager, type RunningManager } from "../runner/manager.ts";
import { createSandbox, prepareSandboxing, type Sandbox, type SandboxSettings } from "../runner/sandbox.ts";
import { reviewCrds } from "../runner/crd-review.ts";
import { installCrds } from "../runner/operator.ts";
import { CRD_DIR, readCrds, readManagerRole, ROLE_FILE } from "../runner/project.ts";
import { prepareOperator, type OperatorSource } from "../runner/source.ts";
import type { SlotLease, SlotPool } from "../process/host-slots.ts";
import type { HostCapacity } from "./capacity.ts";
import { watchForStalls, type StallWatch, type StillRefused } from "./stalls.ts";
import { unjudged, watchCluster, type ClusterWatch } from "./cluster-watch.ts";
import { earned, toCheckResult, undecided } from "./results.ts";
import { runScenario } from "./scenario.ts";
import { liveCheck, type LiveVerdict } from "./live-check.ts";

export interface GradeOptions {
  lab: Lab;
  source: OperatorSource;
  /** A label for the result: "reference", a mutant's name, a learner's project. */
  operatorName: string;
  provider: ClusterProvider;
  workDir: string;
  controllerGen: string;
  goEnv: Record<string, string | undefined>;
  managerEnv: Record<string, string>;
  managerArgs: string[];
  attemptId?: string;
  /** Time limit of the manager's `go build`; a build over it makes the grade not gradable (a slow host is not the learner's fault). */
  buildTimeoutMs?: number;
  /** The host's budget of grades and builds this grade waits its turn in; unset, it starts at once. */
  capacity?: Pick<HostCapacity, "grades" | "builds">;
  /** Run the manager in a sandbox (own uid, cgroup limits, no network but its API server); unset runs it as ourselves. */
  sandbox?: SandboxSettings;
  /** Build a submitted project in a sandbox (own uid, cgroup limits, no network but the module proxy); unset builds as ourselves. */
  buildSandbox?: SandboxSettings;
  /** kubectl, for rendering config/default when the provider runs operators in the cluster (kind). */
  kubectl?: string;
  onProgress?: (progress: GradeProgress) => void;
}

/** A platform failure: the grade is not gradable, never a zero. */
class PlatformError extends Error {}

/** The submitted project cannot be run at all (no CRDs, an invalid role or CRD): every check fails, with this finding. */
class ProjectError extends Error {}

async function asProjectError<T>(what: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (e) {
    const learnerFault = !(e instanceof KubeApiError) || (e.status >= 400 && e.status < 500 && e.status !== 429);
    if (!learnerFault) throw e;
    throw new ProjectError(`${what}: ${messageChain(e)}`, { cause: e });
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

/**
 * One whole grade: build, provision a cluster, run the operator under its own role while every
 * object version is recorded, run all scenarios side by side, and decide every check.
 */
export async function gradeOperator(options: GradeOptions): Promise<GradeResult> {
  const started = Date.now();
  // Grade time counts from the moment this grade has its slot: waiting in line is no part of it.
  let base = started;
  const clock = () => Date.now() - base;
  const attempt = options.attemptId ?? randomBytes(3).toString("hex");
  const progress = options.onProgress ?? (() => undefined);
  const labels = { "app.kubernetes.io/managed-by": "labgrader", "labgrader.dev/attempt": attempt };
  const results = new Map<string, CheckResult>();
  const findings: string[] = [];
  let cluster: Cluster | undefined;
  let manager: RunningManager | undefined;
  let sandbox: Sandbox | undefined;
  let recorder: Recorder | undefined;
  let stalls: StallWatch | undefined;
  let clusterWatch: ClusterWatch | undefined;
  let gradeSlot: SlotLease | undefined;
  const attemptVars = (scenario: string) => ({ namespace: `${scenario}-${attempt}`.slice(0, 63).replace(/-+$/, ""), attempt });
  const allChecks = options.lab.checks;

  // Checks that passed but are earned only once the checks they require have passed too.
  const held = new Map<string, { result: CheckResult; requires: string[] }>();
  const publish = (result: CheckResult) => {
    results.set(result.id, result);
    progress({ type: "check", result });
  };
  const releaseHeld = (final: boolean) => {
    for (const [id, { result, requires }] of held) {
      const required = requires.map((r) => results.get(r));
      if (!final && required.some((r) => r === undefined)) continue;
      held.delete(id);
      publish(earned(result, required.filter((r): r is CheckResult => r !== undefined), requires));
    }
  };
  const record = (check: RenderedCheck, verdict: LiveVerdict, scenario?: string) => {
    if (results.has(check.id) || held.has(check.id)) return;
    const result = toCheckResult(check, verdict, scenario, recorder?.trace, scenario ? attemptVars(scenario).namespace : undefined);
    if (result.status === "passed" && check.requires.length > 0) held.set(check.id, { result, requires: check.requires });
    else publish(result);
    // A held check's requirements may just have been decided (this one among them).
    releaseHeld(false);
  };

  const finish = (status: GradeResult["status"], reason?: string): GradeResult => {
    releaseHeld(true);
    const checks = allChecks.map((c) => results.get(c.id) ?? undecided(c, reason ?? "the grade ended before this check was decided"));
    const required = checks.filter((c) => c.required);
    return {
      lab: options.lab.id,
      labTitle: options.lab.title,
      provider: options.provider.name,
      operator: options.operatorName,
      status: checks.some((c) => c.status === "error") ? "not_gradable" : status,
      ...(reason ? { reason } : {}),
      score: required.filter((c) => c.status === "passed").reduce((sum, c) => sum + c.points, 0),
      maxScore: required.reduce((sum, c) => sum + c.points, 0),
      startedAt: new Date(started).toISOString(),
      durationMs: clock(),
      ...(gradeSlot?.waitedMs ? { waitedMs: gradeSlot.waitedMs } : {}),
      findings,
      checks,
    };
  };

  /** Waits for a slot of the host's budget, saying where in line this grade is while it waits. */
  const waitTurn = async (pool: SlotPool | undefined, slot: "grade" | "build"): Promise<SlotLease | undefined> => {
    if (!pool) return undefined;
    return pool.acquire(`${options.operatorName} (${attempt})`, { onWait: (wait) => progress({ type: "waiting", slot, ...wait, at: clock() }) });
  };

  /** In the cluster, as `make deploy` does: the learner's manifests (reviewed) with the image labgrader built. */
  const deployOperator = async (admin: KubeClient, target: Cluster, manifestsDir: string, binary: string) => {
    const { loadImage } = target;
    if (!options.kubectl || !loadImage) throw new PlatformError(`the ${options.provider.name} provider runs operators in the cluster, but this grader has no kubectl or image loader for it`);
    try {
      const allowed = options.lab.permissions ? { allowed: options.lab.permissions } : {};
      return await deployInCluster({ admin, loadImage, kubectl: options.kubectl, env: options.goEnv, manifestsDir, binary, attempt, workDir: options.workDir, managerArgs: options.managerArgs, labels, clock, podSecurity: options.lab.podSecurity, ...allowed });
    } catch (e) {
      if (e instanceof DeployManifestError) throw new ProjectError(`The operator could not be deployed: ${e.message}`, { cause: e });
      const refused = e instanceof KubeApiError && e.status >= 400 && e.status < 500 && e.status !== 429;
      if (refused) throw new ProjectError(`The API server refused the operator's manifests (config/default): ${e.message}`, { cause: e });
      // docker, kind or the API server failing is ours, not the learner's.
      throw new PlatformError(`could not deploy the operator into the cluster: ${messageChain(e)}`, { cause: e });
    }
  };

  try {
    await mkdir(options.workDir, { recursive: true });
    if (options.sandbox && options.provider.operatorMode === "host") {
      // The sandbox uid must not read the build, the admin kubeconfig or other attempts.
      await chmod(options.workDir, 0o700);
      await prepareSandboxing(options.sandbox).catch((e: unknown) => {
        throw new PlatformError(messageChain(e), { cause: e });
      });
    }
    gradeSlot = await waitTurn(options.capacity?.grades, "grade");
    base = Date.now();
    progress({ type: "phase", phase: "building", at: clock() });
    const provisioning = options.provider.create({ labels }).catch((e: unknown) => {
      throw new PlatformError(`could not provision a ${options.provider.name} cluster: ${messageChain(e)}`, { cause: e });
    });
    provisioning.catch(() => undefined);
    const buildSlot = await waitTurn(options.capacity?.builds, "build");
    const prepared = await prepareOperator(options.source, {
      workDir: options.workDir,
      goEnv: options.goEnv,
      controllerGen: options.controllerGen,
      buildTimeoutMs: options.buildTimeoutMs,
      ...(options.buildSandbox ? { sandbox: options.buildSandbox } : {}),
    }).finally(() => buildSlot?.release());
    progress({ type: "build", ok: prepared.build.ok, timedOut: !prepared.build.ok && prepared.build.timedOut, durationMs: prepared.build.durationMs, at: clock() });
    if (!prepared.build.ok && prepared.build.timedOut) {
      cluster = await provisioning.catch(() => undefined);
      throw new PlatformError(`the operator's build did not finish within ${Math.round((options.buildTimeoutMs ?? prepared.build.durationMs) / 1000)} s (its time limit); a busy host can cause this, so it is graded again`);
    }
    if (!prepared.build.ok) {
      cluster = await provisioning.catch(() => undefined);
      throw new ProjectError(`The operator did not build: go build failed:\n${prepared.build.output.split("\n").slice(0, 40).join("\n")}`);
    }
    const crds = await asProjectError(`The project's CRDs (${CRD_DIR}) cannot be read`, () => readCrds(prepared.manifestsDir));
    const role = await asProjectError(`The project's role (${ROLE_FILE}) cannot be read`, () => readManagerRole(prepared.manifestsDir));
    cluster = await provisioning;
    progress({ type: "phase", phase: "provisioning", at: clock() });
    const admin = createKubeClient(cluster.kubeconfigPath);
    const crdReview = reviewCrds(crds, options.lab.resources);
    findings.push(...crdReview.findings);
    await asProjectError("The project's CRDs were refused by the API server", () => installCrds(admin, crdReview.kept));
    const inCluster = options.provider.operatorMode === "in-cluster";
    const hostIdentity = inCluster ? undefined : await createOperatorIdentity(admin, role, join(options.workDir, "operator.kubeconfig"), options.lab.permissions);
    findings.push(...(hostIdentity?.roleFindings ?? []));
    recorder = createRecorder(admin, kindsToRecord(options.lab), clock);
    await recorder.ready.catch((e: unknown) => findings.push(`Some kinds could not be watched: ${e instanceof Error ? e.message : String(e)}`));

    progress({ type: "phase", phase: "deploying", at: clock() });
    const rec = recorder;
    let identity: { namespace: string; username: string };
    if (hostIdentity) {
      if (options.sandbox) {
        const settings = options.sandbox;
        const server = admin.config.getCurrentCluster()?.server ?? "";
        sandbox = await createSandbox({ settings, binary: prepared.build.binary, kubeconfigPath: hostIdentity.kubeconfigPath, apiServer: server }).catch((e: unknown) => {
          throw new PlatformError(`could not sandbox the operator: ${messageChain(e)}`, { cause: e });
        });
      }
      manager = startManager({
        binary: sandbox?.binary ?? prepared.build.binary,
        kubeconfigPath: sandbox?.kubeconfigPath ?? hostIdentity.kubeconfigPath,
        args: options.managerArgs,
        workDir: options.workDir,
        logFile: join(options.workDir, "manager.log"),
        clock,
        env: options.managerEnv,
        ...(sandbox ? { sandbox: sandbox.manager } : {}),
      });
      identity = hostIdentity;
    } else {
      const deployed = await deployOperator(admin, cluster, prepared.manifestsDir, prepared.build.binary);
      findings.push(...deployed.findings);
      manager = deployed.manager;
      identity = deployed;
    }
    manager.onLog((line) => rec.addLog(line));
    const subject = { username: identity.username, groups: serviceAccountGroups(identity.namespace) };
    const stillRefused: StillRefused = async ({ verb, resource, group }) => {
      const answer = await runProbe(admin, { kind: "access", verb, resource, group }, subject, clock);
      return answer.kind === "access" && !answer.allowed;
    };
    stalls = watchForStalls(manager, (finding) => findings.push(finding), stillRefused);
    const graded = cluster;
    clusterWatch = graded.problems ? watchCluster(() => graded.problems?.() ?? Promise.resolve([])) : undefined;
    // Pending checks are decided at once when waiting is pointless: the operator stalled, or the cluster broke.
    const abort = Promise.race([stalls.stalled, ...(clusterWatch ? [clusterWatch.broken] : [])]);

    progress({ type: "phase", phase: "checking", at: clock() });
    const probe = async (check: RenderedCheck) => {
      const request = probeFor(check);
      return request ? runProbe(admin, request, subject, clock) : undefined;
    };
    const clusterLevel = clusterChecks(options.lab, attemptVars("cluster")).map(async (check) => {
      try {
        const result = await probe(check);
        record(check, await liveCheck({ recorder: rec, check, namespace: identity.namespace, clock, abort, ...(result ? { probe: result } : {}) }));
      } catch (e) {
        record(check, { status: "error", reason: e instanceof Error ? e.message : String(e), decidedAt: clock() });
      }
    });
    const scenarios = options.lab.scenarios.map(async (s) => {
      const scenario = renderScenario(options.lab, s.id, attemptVars(s.id));
      try {
        await runScenario(scenario, { admin, recorder: rec, clock, labels, podSecurity: options.lab.podSecurity, abort, probe, onVerdict: (check, verdict, id) => record(check, verdict, id) });
      } catch (e) {
        const reason = `scenario ${s.id} failed: ${e instanceof Error ? e.message : String(e)}`;
        for (const step of scenario.steps) if (step.action === "checks" || step.action === "watch") for (const check of step.checks) record(check, { status: "error", reason, decidedAt: clock() }, s.id);
      }
    });
    await Promise.all([...clusterLevel, ...scenarios]);
    const broken = await clusterWatch?.check();
    if (broken) {
      for (const [id, result] of results) results.set(id, unjudged(result, broken));
      throw new PlatformError(`${broken}; a busy host can cause this, so it is graded again`);
    }
    progress({ type: "phase", phase: "reporting", at: clock() });
    return finish("graded");
  } catch (e) {
    if (e instanceof ProjectError) {
      findings.push(e.message);
      const headline = e.message.split("\n")[0]!;
      for (const check of allChecks) if (!results.has(check.id)) results.set(check.id, { ...undecided(check, headline), status: "failed", message: `${headline}.` });
      return finish("graded");
    }
    const reason = e instanceof PlatformError ? e.message : `grading failed: ${messageChain(e)}`;
    return finish("not_gradable", reason);
  } finally {
    stalls?.disarm();
    clusterWatch?.stop();
    const stopping = clock();
    if (manager) {
      const exit = await manager.stop();
      if (exit.signal === "SIGKILL" && exit.at >= stopping) findings.push("The operator did not stop within 10 s of SIGTERM and was killed.");
    }
    if (sandbox) {
      findings.push(...(await sandbox.diagnose().catch(() => [])));
      await sandbox.dispose().catch((e: unknown) => findings.push(`sandbox cleanup failed: ${messageChain(e)}`));
    }
    recorder?.stop();
    await cluster?.dispose().catch((e: unknown) => findings.push(`cluster cleanup failed: ${String(e)}`));
    await gradeSlot?.release();
  }
}
