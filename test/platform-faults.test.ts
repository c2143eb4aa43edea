import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { managerEnvironment } from "../grader/src/runner/manager-environment.ts";
import { prepareProvider } from "../grader/src/clusters/select.ts";
import type { Cluster } from "../grader/src/clusters/provider.ts";
import { hostCapacity } from "../grader/src/grading/capacity.ts";
import { gradeOperator } from "../grader/src/grading/grade.ts";
import type { Lab } from "../grader/src/engine/lab.ts";
import { loadLab } from "../grader/src/labs/load.ts";
import { isAlive } from "../grader/src/process/liveness.ts";
import { goEnv, referenceOperatorDir, tempDir, testConfig, testToolchain } from "./support/env.ts";

const LAB = "composing-operators";

// kwokctl names each component's pid file after its binary.
const componentPid = (cluster: Cluster, component: string) =>
  Number(readFileSync(join(dirname(cluster.kubeconfigPath), "pids", `${component}.pid`), "utf8").trim());

/** Grades the reference on kwok; `atChecking` gets its cluster when checking starts (and the grade clock then), to break it. */
async function gradeReferenceBreaking(
  operatorName: string,
  atChecking: (cluster: Cluster, at: number) => void,
  lab: Lab | Promise<Lab> = loadLab(LAB),
) {
  const toolchain = await testToolchain();
  const config = testConfig();
  const prepared = await prepareProvider("kwok", { config, toolchain, env: process.env, log: () => undefined }, false);
  let cluster: Cluster | undefined;
  const result = await gradeOperator({
    lab: await lab,
    source: { kind: "project", dir: referenceOperatorDir },
    operatorName,
    provider: { ...prepared.provider, create: async (options) => (cluster = await prepared.provider.create(options)) },
    workDir: tempDir(operatorName.replace(/\W+/g, "-")),
    controllerGen: toolchain.binaries["controller-gen"],
    goEnv: goEnv(),
    managerEnv: managerEnvironment(process.env),
    capacity: hostCapacity(config),
    managerArgs: ["--phase-delay=1s"],
    onProgress: (p) => {
      if (p.type === "phase" && p.phase === "checking" && cluster) atChecking(cluster, p.at);
    },
  });
  return { result, cluster: cluster! };
}

// A busy host can take a control-plane component down mid-grade (a kube-controller-manager that
// cannot renew its lease in time exits for good). Checks judged after that say nothing about the
// operator: the grade must end as not gradable, at once, with the cause, and charge no one.
describe("a cluster that breaks during a grade", () => {
  it("ends the grade as not gradable, naming the component, with no check failed", async () => {
    let killed: number | undefined;
    const { result, cluster } = await gradeReferenceBreaking("reference, its cluster broken", (cluster) => {
      killed = componentPid(cluster, "kube-controller-manager");
      process.kill(killed, "SIGKILL");
    });
    expect(killed).toBeGreaterThan(0);
    expect(result.status).toBe("not_gradable");
    expect(result.reason).toBe(
      "the cluster broke during the grade: its kube-controller-manager exited; a busy host can cause this, so it is graded again",
    );
    expect(result.checks.filter((c) => c.status === "failed").map((c) => c.id)).toEqual([]);
    // The Databases never got their pods, so checks waiting on them are not gradable, not failed.
    expect(result.checks.find((c) => c.id === "walkthrough-database-ready")).toMatchObject({
      status: "error",
      message: expect.stringContaining("kube-controller-manager exited"),
    });
    // The rest of the cluster was still torn down.
    expect(isAlive(killed!)).toBe(false);
    expect(existsSync(dirname(cluster.kubeconfigPath))).toBe(false);
  });

  // A host too busy to schedule pods for a while: nothing in a scenario's namespace changes (no
  // pod is bound, none starts, so no Events) for longer than a check's stuckAfter. The pods the
  // platform has yet to start must keep the checks waiting: the slowness is no fault of the operator.
  it("waits out a scheduler that stalls longer than stuckAfter, and gives the reference full marks", async () => {
    const STALL_MS = 45_000;
    let stalled: { pid: number; resumed: Promise<number> } | undefined;
    let timer: NodeJS.Timeout | undefined;
    try {
      const { result } = await gradeReferenceBreaking("reference, its scheduler stalled", (cluster, at) => {
        const pid = componentPid(cluster, "kube-scheduler");
        process.kill(pid, "SIGSTOP");
        const wallStart = Date.now();
        const resumed = new Promise<number>((resolve) => {
          timer = setTimeout(() => {
            process.kill(pid, "SIGCONT");
            resolve(at + Date.now() - wallStart);
          }, STALL_MS);
        });
        stalled = { pid, resumed };
      });
      expect(stalled).toBeDefined();
      const resumedAt = await stalled!.resumed;
      expect(result.status).toBe("graded");
      expect(result.checks.filter((c) => c.status !== "passed").map((c) => `${c.id}: ${c.message}`)).toEqual([]);
      expect(result.score).toBe(result.maxScore);
      // The stall held the Databases back: they were judged Ready only after the scheduler resumed.
      expect(result.checks.find((c) => c.id === "walkthrough-database-ready")!.decidedAtMs).toBeGreaterThan(resumedAt);
    } finally {
      clearTimeout(timer);
      if (stalled && isAlive(stalled.pid)) process.kill(stalled.pid, "SIGCONT");
    }
  });
});

// Some scenarios first put a policy of the grader's in force (Lab 4.2 refuses the operator's
// StatefulSet deletes to make its cleanup fail). Should that setup not hold, the checks after it
// would judge the operator on a false premise: the grade is not gradable, and no check fails.
describe("the grader's own setup that does not hold", () => {
  it("makes the grade not gradable, with the rest of that scenario in error and no check failed", async () => {
    const lab = await loadLab("finalizers-and-cleanup");
    const never: Lab = {
      ...lab,
      checks: lab.checks.map((c) =>
        c.id === "refusal-in-force"
          ? ({
              ...c,
              timeout: "3s",
              params: { ...c.params, messagePattern: "a refusal the policy never gives" },
            } as typeof c)
          : c,
      ),
    };
    const scenario = never.scenarios.find((s) =>
      s.steps.some((step) => "checks" in step && step.checks.includes("refusal-in-force")),
    )!;
    const after = scenario.steps
      .flatMap((step) => ("checks" in step ? step.checks : []))
      .filter((id, i, ids) => i > ids.indexOf("refusal-in-force"));
    expect(after.length).toBeGreaterThan(0);

    const { result } = await gradeReferenceBreaking("reference, the grader's setup broken", () => undefined, never);
    expect(result.status).toBe("not_gradable");
    expect(result.checks.filter((c) => c.status === "failed").map((c) => `${c.id}: ${c.message}`)).toEqual([]);
    expect(result.checks.find((c) => c.id === "refusal-in-force")).toMatchObject({
      status: "error",
      message: expect.stringContaining("the grader's own setup did not hold"),
    });
    for (const id of after)
      expect(
        result.checks.find((c) => c.id === id),
        id,
      ).toMatchObject({
        status: "error",
        message: expect.stringContaining(`so the rest of scenario ${scenario.id} cannot be judged`),
      });
    // The lab's other scenarios were judged as usual.
    expect(result.checks.filter((c) => c.status === "passed").length).toBeGreaterThan(0);
  });
});
