import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { managerEnvironment } from "../grader/src/runner/manager-environment.ts";
import { prepareProvider } from "../grader/src/clusters/select.ts";
import type { Cluster } from "../grader/src/clusters/provider.ts";
import { hostCapacity } from "../grader/src/grading/capacity.ts";
import { gradeOperator } from "../grader/src/grading/grade.ts";
import { loadLab } from "../grader/src/labs/load.ts";
import { isAlive } from "../grader/src/process/liveness.ts";
import { goEnv, referenceOperatorDir, tempDir, testConfig, testToolchain } from "./support/env.ts";

const LAB = "composing-operators";

// A busy host can take a control-plane component down mid-grade (a kube-controller-manager that
// cannot renew its lease in time exits for good). Checks judged after that say nothing about the
// operator: the grade must end as not gradable, at once, with the cause, and charge no one.
describe("a cluster that breaks during a grade", () => {
  it("ends the grade as not gradable, naming the component, with no check failed", async () => {
    const toolchain = await testToolchain();
    const config = testConfig();
    const prepared = await prepareProvider("kwok", { config, toolchain, env: process.env, log: () => undefined }, false);
    let cluster: Cluster | undefined;
    let killed: number | undefined;
    const result = await gradeOperator({
      lab: await loadLab(LAB),
      source: { kind: "project", dir: referenceOperatorDir },
      operatorName: "reference, its cluster broken",
      provider: { ...prepared.provider, create: async (options) => (cluster = await prepared.provider.create(options)) },
      workDir: tempDir("broken-cluster"),
      controllerGen: toolchain.binaries["controller-gen"],
      goEnv: goEnv(),
      managerEnv: managerEnvironment(process.env),
      capacity: hostCapacity(config),
      managerArgs: ["--phase-delay=1s"],
      onProgress: (p) => {
        if (p.type !== "phase" || p.phase !== "checking" || !cluster) return;
        // kwokctl names each component's pid file after its binary.
        killed = Number(readFileSync(join(dirname(cluster.kubeconfigPath), "pids", "kube-controller-manager.pid"), "utf8").trim());
        process.kill(killed, "SIGKILL");
      },
    });
    expect(killed).toBeGreaterThan(0);
    expect(result.status).toBe("not_gradable");
    expect(result.reason).toBe("the cluster broke during the grade: its kube-controller-manager exited; a busy host can cause this, so it is graded again");
    expect(result.checks.filter((c) => c.status === "failed").map((c) => c.id)).toEqual([]);
    // The Databases never got their pods, so checks waiting on them are not gradable, not failed.
    expect(result.checks.find((c) => c.id === "walkthrough-database-ready")).toMatchObject({ status: "error", message: expect.stringContaining("kube-controller-manager exited") });
    // The rest of the cluster was still torn down.
    expect(isAlive(killed!)).toBe(false);
    expect(existsSync(dirname(cluster!.kubeconfigPath))).toBe(false);
  });
});
