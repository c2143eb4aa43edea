import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { KubeObject } from "../engine/trace.ts";
import type { KubeClient } from "../kube/client.ts";
import { waitForObject } from "../kube/watch.ts";
import { createOperatorIdentity, type OperatorIdentity } from "./identity.ts";
import { startManager, type HostManager } from "./manager.ts";
import { readCrds, readManagerRole } from "./project.ts";

export interface StartOperatorOptions {
  admin: KubeClient;
  projectDir: string;
  /** The manager binary, already built. */
  binary: string;
  workDir: string;
  managerArgs: string[];
  clock: () => number;
  /** The manager's environment (kept minimal: PATH, HOME). */
  managerEnv: Record<string, string>;
  stopGraceMs?: number;
}

export interface RunningOperator {
  identity: OperatorIdentity;
  crds: KubeObject[];
  manager: HostManager;
}

/** Installs the CRDs, like `make install`, and waits until the API server serves them. */
export async function installCrds(admin: KubeClient, crds: KubeObject[]): Promise<void> {
  for (const crd of crds) await admin.apply(crd);
  for (const crd of crds) {
    await waitForObject(
      admin,
      { apiVersion: "apiextensions.k8s.io/v1", kind: "CustomResourceDefinition", name: crd.metadata.name },
      (o) =>
        ((o as { status?: { conditions?: { type: string; status: string }[] } }).status?.conditions ?? []).some(
          (c) => c.type === "Established" && c.status === "True",
        ),
      30_000,
      `CRD ${crd.metadata.name} to be established`,
    );
  }
}

/** Runs an operator the way `make install run` does, but under its own generated role instead of admin. */
export async function startOperator(options: StartOperatorOptions): Promise<RunningOperator> {
  await mkdir(options.workDir, { recursive: true });
  const crds = await readCrds(options.projectDir);
  const role = await readManagerRole(options.projectDir);
  await installCrds(options.admin, crds);
  const identity = await createOperatorIdentity(options.admin, role, join(options.workDir, "operator.kubeconfig"));
  const manager = startManager({
    binary: options.binary,
    kubeconfigPath: identity.kubeconfigPath,
    args: options.managerArgs,
    workDir: options.workDir,
    logFile: join(options.workDir, "manager.log"),
    clock: options.clock,
    env: options.managerEnv,
    stopGraceMs: options.stopGraceMs,
  });
  return { identity, crds, manager };
}
