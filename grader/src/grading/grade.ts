import { randomBytes } from "node:crypto";
import { requiredPoints, type GradeProgress, type GradeResult } from "../contracts.ts";
import type { ClusterProvider } from "../clusters/provider.ts";
import type { Lab } from "../engine/lab.ts";
import { probeFor } from "../engine/registry.ts";
import { clusterChecks, renderScenario, type RenderedCheck } from "../engine/render.ts";
import { LearnerFault, messageChain, PlatformFault } from "../errors.ts";
import { runProbe, serviceAccountGroups } from "../kube/probes.ts";
import { MANAGED_BY_LABELS } from "../labels.ts";
import type { ManagerCache } from "../runner/manager-cache.ts";
import type { SandboxSettings } from "../runner/sandbox.ts";
import type { OperatorSource } from "../runner/source.ts";
import type { SlotLease } from "../process/host-slots.ts";
import type { HostCapacity } from "./capacity.ts";
import { watchCluster } from "./cluster-watch.ts";
import { liveCheck, type LiveVerdict } from "./live-check.ts";
import { runScenario } from "./scenario.ts";
import {
  attemptVars,
  build,
  deploy,
  namespaceOf,
  prepareWorkDir,
  provision,
  startProvisioning,
  waitTurn,
  type Created,
  type Deployed,
  type GradeContext,
  type Provisioned,
} from "./setup.ts";
import { watchForStalls, type StillRefused } from "./stalls.ts";
import { createTally, type Tally } from "./tally.ts";

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
  /** Managers built from our own code, kept by their inputs (a learner's project is always built anew). */
  managerCache?: ManagerCache;
  /** The host's budget of grades and builds this grade waits its turn in; unset, it starts at once. */
  capacity?: Pick<HostCapacity, "grades" | "builds">;
  /** Run the manager in a sandbox (own uid, cgroup limits, no network but its API server); unset runs it as ourselves. */
  sandbox?: SandboxSettings;
  /**
   * The sandbox for a lab whose managers play a Deployment's pods (`managers: deployment`) when
   * `sandbox` is unset: a pod's hostname and namespace file need its namespaces, so such a lab
   * always runs its managers sandboxed.
   */
  podSandbox?: SandboxSettings;
  /** Build a submitted project in a sandbox (own uid, cgroup limits, no network but the module proxy); unset builds as ourselves. */
  buildSandbox?: SandboxSettings;
  /** kubectl, for rendering config/default when the provider runs operators in the cluster (kind). */
  kubectl?: string;
  onProgress?: (progress: GradeProgress) => void;
}

/** Grade time counts from the moment this grade has its slot: waiting in line is no part of it. */
function gradeClock(started: number) {
  let base = started;
  return {
    now: () => Date.now() - base,
    restart: () => {
      base = Date.now();
    },
  };
}

/**
 * Runs every scenario and cluster-level check side by side while the operator works, deciding
 * each check into the tally. Pending checks are decided at once when waiting is pointless: the
 * operator stalled, or the cluster broke (which makes the grade not gradable).
 */
async function runChecks(
  grade: GradeContext,
  created: Created,
  tally: Tally,
  { cluster, admin, recorder }: Provisioned,
  { manager, identity, vars, problems }: Deployed,
): Promise<void> {
  const { options, clock, labels, findings } = grade;
  const subject = { username: identity.username, groups: serviceAccountGroups(identity.namespace) };
  const stillRefused: StillRefused = async ({ verb, resource, group }) => {
    const answer = await runProbe(admin, { kind: "access", verb, resource, group }, subject, clock);
    return answer.kind === "access" && !answer.allowed;
  };
  const stalls = watchForStalls(manager, (finding) => findings.push(finding), stillRefused);
  created.stalls = stalls;
  const clusterWatch =
    cluster.problems || problems
      ? watchCluster(async () => [...((await cluster.problems?.()) ?? []), ...(problems?.() ?? [])])
      : undefined;
  created.clusterWatch = clusterWatch;
  const abort = Promise.race([stalls.stalled, ...(clusterWatch ? [clusterWatch.broken] : [])]);

  grade.progress({ type: "phase", phase: "checking", at: clock() });
  const probe = async (check: RenderedCheck) => {
    const request = probeFor(check);
    return request ? runProbe(admin, request, subject, clock) : undefined;
  };
  const record = (check: RenderedCheck, verdict: LiveVerdict, scenario?: string) =>
    tally.record(check, verdict, {
      trace: recorder.trace,
      ...(scenario ? { scenario, namespace: namespaceOf(scenario, grade.attempt) } : {}),
    });
  const clusterLevel = clusterChecks(options.lab, attemptVars(grade, "cluster", vars)).map(async (check) => {
    try {
      const result = await probe(check);
      record(
        check,
        await liveCheck({
          recorder,
          check,
          namespace: identity.namespace,
          clock,
          abort,
          ...(result ? { probe: result } : {}),
        }),
      );
    } catch (e) {
      record(check, { status: "error", reason: e instanceof Error ? e.message : String(e), decidedAt: clock() });
    }
  });
  const scenarios = options.lab.scenarios.map(async (s) => {
    const scenario = renderScenario(options.lab, s.id, attemptVars(grade, s.id, vars));
    try {
      await runScenario(scenario, {
        admin,
        recorder,
        clock,
        labels,
        podSecurity: options.lab.podSecurity,
        abort,
        probe,
        onVerdict: (check, verdict, id) => record(check, verdict, id),
        whenAnyFailed: (ids) => tally.whenAnyFailed(ids),
      });
    } catch (e) {
      const reason = `scenario ${s.id} failed: ${e instanceof Error ? e.message : String(e)}`;
      for (const step of scenario.steps)
        if (step.action === "checks" || step.action === "watch")
          for (const check of step.checks) record(check, { status: "error", reason, decidedAt: clock() }, s.id);
    }
  });
  await Promise.all([...clusterLevel, ...scenarios]);
  const broken = await clusterWatch?.check();
  if (broken) {
    tally.unjudge(broken);
    throw new PlatformFault(`${broken}; a busy host can cause this, so it is graded again`);
  }
}

/** The grade's result from the tally; any check left in error makes it not gradable. */
function report(
  grade: GradeContext,
  tally: Tally,
  started: number,
  gradeSlot: SlotLease | undefined,
  status: GradeResult["status"],
  reason?: string,
): GradeResult {
  const { options } = grade;
  const checks = tally.checks(reason);
  return {
    lab: options.lab.id,
    labTitle: options.lab.title,
    provider: options.provider.name,
    operator: options.operatorName,
    status: checks.some((c) => c.status === "error") ? "not_gradable" : status,
    ...(reason ? { reason } : {}),
    score: requiredPoints(checks.filter((c) => c.status === "passed")),
    maxScore: requiredPoints(checks),
    startedAt: new Date(started).toISOString(),
    durationMs: grade.clock(),
    ...(gradeSlot?.waitedMs ? { waitedMs: gradeSlot.waitedMs } : {}),
    findings: grade.findings,
    checks,
  };
}

/** How a failed grade ends: the project's fault fails every undecided check; anything else is not gradable. */
function failure(grade: GradeContext, tally: Tally, e: unknown): { status: GradeResult["status"]; reason?: string } {
  if (e instanceof LearnerFault) {
    grade.findings.push(e.message);
    tally.failUndecided(e.message.split("\n")[0]!);
    return { status: "graded" };
  }
  return {
    status: "not_gradable",
    reason: e instanceof PlatformFault ? e.message : `grading failed: ${messageChain(e)}`,
  };
}

/** Cleans up whatever the grade created, in the reverse order of its use; what goes wrong is a finding. */
async function tearDown(created: Created, findings: string[], clock: () => number): Promise<void> {
  created.stalls?.disarm();
  created.clusterWatch?.stop();
  const stopping = clock();
  if (created.manager) {
    const exit = await created.manager.stop();
    if (exit.signal === "SIGKILL" && exit.at >= stopping)
      findings.push("The operator did not stop within 10 s of SIGTERM and was killed.");
  }
  const { sandbox } = created;
  if (sandbox) {
    findings.push(...(await sandbox.diagnose().catch(() => [])));
    await sandbox.dispose().catch((e: unknown) => findings.push(`sandbox cleanup failed: ${messageChain(e)}`));
  }
  created.recorder?.stop();
  const cluster = await created.cluster;
  await cluster?.dispose().catch((e: unknown) => findings.push(`cluster cleanup failed: ${String(e)}`));
  await created.gradeSlot?.release();
}

/**
 * One whole grade: build, provision a cluster, run the operator under its own role while every
 * object version is recorded, run all scenarios side by side, and decide every check.
 */
export async function gradeOperator(options: GradeOptions): Promise<GradeResult> {
  const started = Date.now();
  const clock = gradeClock(started);
  const attempt = options.attemptId ?? randomBytes(3).toString("hex");
  const grade: GradeContext = {
    options,
    attempt,
    labels: { ...MANAGED_BY_LABELS, "labgrader.dev/attempt": attempt },
    clock: clock.now,
    progress: options.onProgress ?? (() => undefined),
    findings: [],
  };
  const tally = createTally(options.lab.checks, grade.progress);
  const created: Created = {};
  try {
    await prepareWorkDir(options);
    created.gradeSlot = await waitTurn(grade, options.capacity?.grades, "grade");
    clock.restart();
    grade.progress({ type: "phase", phase: "building", at: grade.clock() });
    // The cluster starts while the operator builds.
    const provisioning = startProvisioning(grade);
    created.cluster = provisioning.catch(() => undefined);
    const built = await build(grade);
    const provisioned = await provision(grade, created, provisioning, built);
    const deployed = await deploy(grade, created, built, provisioned);
    await runChecks(grade, created, tally, provisioned, deployed);
    grade.progress({ type: "phase", phase: "reporting", at: grade.clock() });
    return report(grade, tally, started, created.gradeSlot, "graded");
  } catch (e) {
    const { status, reason } = failure(grade, tally, e);
    return report(grade, tally, started, created.gradeSlot, status, reason);
  } finally {
    await tearDown(created, grade.findings, grade.clock);
  }
}
