import { existsSync, readdirSync, readFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createProvider } from "../grader/src/clusters/select.ts";
import type { Cluster } from "../grader/src/clusters/provider.ts";
import type { KubeObject } from "../grader/src/engine/trace.ts";
import { createKubeClient, type KubeClient } from "../grader/src/kube/client.ts";
import { waitForObject, watchResource, type WatchHandle } from "../grader/src/kube/watch.ts";
import { restartComponent } from "../grader/src/clusters/kwok-restart.ts";
import { buildManager } from "../grader/src/runner/build.ts";
import { startOperator, type RunningOperator } from "../grader/src/runner/operator.ts";
import { isAlive } from "../grader/src/process/liveness.ts";
import { managerEnvironment } from "../grader/src/runner/manager-environment.ts";
import { goEnv, referenceOperatorDir, tempDir, testConfig, testToolchain } from "./support/env.ts";

type Versioned = { at: number; object: KubeObject };
type Status = {
  phase?: string;
  readyReplicas?: number;
  conditions?: { type: string; status: string; reason: string }[];
};
const status = (o: KubeObject) => ((o as { status?: Status }).status ?? {}) as Status;
const condition = (o: KubeObject, type: string) => status(o).conditions?.find((c) => c.type === type);

/**
 * Processes listening on the API server's port whose command line names this cluster. Other files'
 * clusters run beside this one and may be handed the same port once it is free: only ours count.
 */
function listenersOf(url: string, clusterName: string): number[] {
  const { port } = new URL(url);
  const out = execFileSync("ss", ["-Hltnp", `sport = :${port}`], { encoding: "utf8" });
  const pids = [...out.matchAll(/pid=(\d+)/g)].map((m) => Number(m[1]));
  return pids.filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(clusterName);
    } catch {
      return false;
    }
  });
}

// The foundation end to end: a kwok control plane, the reference operator under its own RBAC,
// and the lab's Task 4.2 objects, observed through a watch that misses no version.
describe("reference operator on a kwok cluster", () => {
  const namespace = "task-4-2";
  const started = Date.now();
  const clock = () => Date.now() - started;
  const seen: Versioned[] = [];
  let cluster: Cluster;
  let admin: KubeClient;
  let operator: RunningOperator;
  const watches: WatchHandle[] = [];
  let pids: number[] = [];
  let server = "";
  const waiters = new Set<() => void>();
  /** Resolves when a recorded version makes the predicate true; checked on every new version. */
  const until = (predicate: () => boolean, timeoutMs: number, what: string) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (!predicate()) return;
        waiters.delete(check);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(
          new Error(
            `${what} did not happen in ${timeoutMs} ms; saw ${seen.map((v) => `${v.object.kind}:${status(v.object).phase ?? "-"}`).join(" ")}`,
          ),
        );
      }, timeoutMs);
      waiters.add(check);
      check();
    });

  beforeAll(async () => {
    const toolchain = await testToolchain();
    const provider = createProvider("kwok", {
      config: testConfig(),
      toolchain,
      env: process.env,
      log: () => undefined,
    });
    const work = tempDir("foundation");
    const [created, build] = await Promise.all([
      provider.create({ labels: { "labgrader.dev/test": "foundation" } }),
      buildManager({ projectDir: referenceOperatorDir, outDir: work, env: goEnv() }),
    ]);
    cluster = created;
    if (!build.ok) throw new Error(`reference operator did not build:\n${build.output}`);
    admin = createKubeClient(cluster.kubeconfigPath);
    server = admin.config.getCurrentCluster()!.server;
    operator = await startOperator({
      admin,
      projectDir: referenceOperatorDir,
      binary: build.binary,
      workDir: work,
      managerArgs: ["--phase-delay=1s"],
      clock,
      managerEnv: managerEnvironment(process.env),
    });
    for (const kind of ["Database", "Backup"]) {
      const handle = watchResource(
        admin,
        { apiVersion: "database.example.com/v1", kind, namespace },
        {
          emitInitial: true,
          onEvent: (_type, object) => {
            seen.push({ at: clock(), object });
            for (const waiter of waiters) waiter();
          },
        },
      );
      watches.push(handle);
      await handle.ready;
    }
    const dir = `${testConfig().cacheDir}/kwok/clusters/${cluster.name}/pids`;
    pids = readdirSync(dir).map((f) => Number(readFileSync(`${dir}/${f}`, "utf8")));
  });

  afterAll(async () => {
    for (const w of watches) w.stop();
    await operator?.manager.stop();
    await cluster?.dispose();
  });

  it("runs the manager under its own ServiceAccount, not admin", async () => {
    const review = await admin.request<{ status: { allowed: boolean } }>(
      "POST",
      "/apis/authorization.k8s.io/v1/subjectaccessreviews",
      {
        body: {
          apiVersion: "authorization.k8s.io/v1",
          kind: "SubjectAccessReview",
          spec: { user: operator.identity.username, resourceAttributes: { verb: "list", resource: "nodes" } },
        },
      },
    );
    expect(review.status.allowed).toBe(false);
    const kubeconfig = readFileSync(operator.identity.kubeconfigPath, "utf8");
    expect(kubeconfig).toContain("token:");
    expect(kubeconfig).not.toContain("client-key");
  });

  it("takes the lab's Task 4.2 Database and Backup to Ready and Completed", async () => {
    await admin.apply({ apiVersion: "v1", kind: "Namespace", metadata: { name: namespace } });
    await admin.apply({
      apiVersion: "database.example.com/v1",
      kind: "Database",
      metadata: { name: "my-database", namespace },
      spec: { image: "postgres:14", replicas: 1, databaseName: "mydb", username: "admin", storage: { size: "1Gi" } },
    });
    await admin.apply({
      apiVersion: "database.example.com/v1",
      kind: "Backup",
      metadata: { name: "my-database-backup", namespace },
      spec: { databaseRef: { name: "my-database" }, schedule: "0 2 * * *" },
    });
    await until(
      () =>
        seen.some((v) => v.object.kind === "Backup" && status(v.object).phase === "Completed") &&
        seen.some((v) => v.object.kind === "Database" && status(v.object).phase === "Ready"),
      120_000,
      "Database Ready and Backup Completed",
    );

    const backups = seen.filter((v) => v.object.kind === "Backup");
    const databases = seen.filter((v) => v.object.kind === "Database");
    const firstReady = databases.find((v) => status(v.object).phase === "Ready")!;
    const completed = backups.find((v) => status(v.object).phase === "Completed")!;
    // Completed only after the Database was Ready; Pending, if the Backup's first look came before
    // that (on a busy host the Database may already be Ready by then), only before it. Ordered by
    // etcd revision: two watch streams may deliver a few ms out of the order things were written (ci33).
    const revision = (v: Versioned) => BigInt(v.object.metadata.resourceVersion!);
    for (const pending of backups.filter((v) => status(v.object).phase === "Pending"))
      expect(revision(pending)).toBeLessThan(revision(firstReady));
    expect(revision(completed)).toBeGreaterThan(revision(firstReady));
    expect(condition(completed.object, "BackupReady")).toMatchObject({ status: "True", reason: "BackupCompleted" });

    const get = (apiVersion: string, kind: string, name: string) => admin.get({ apiVersion, kind, name, namespace });
    expect(await get("v1", "Secret", "my-database-credentials")).toBeDefined();
    expect(await get("v1", "Service", "my-database")).toBeDefined();
    const statefulSet = await get("apps/v1", "StatefulSet", "my-database");
    expect(status(statefulSet!).readyReplicas).toBe(1);
  });

  // On a starved host the controller-manager can give up before the API server is healthy; the
  // provider then starts it again from kwokctl's record of its command line.
  it("runs a controller-manager started again after it exited, and stops it with the cluster", async () => {
    const clusterDir = `${testConfig().cacheDir}/kwok/clusters/${cluster.name}`;
    const pidFile = `${clusterDir}/pids/kube-controller-manager.pid`;
    const first = Number(readFileSync(pidFile, "utf8"));
    process.kill(first, "SIGKILL");
    await expect.poll(() => isAlive(first)).toBe(false);
    const again = await restartComponent(clusterDir, "kube-controller-manager", process.env);
    pids.push(again.pid);
    expect(Number(readFileSync(pidFile, "utf8"))).toBe(again.pid);
    // The serviceaccount controller (the controller-manager's) gives a new namespace its default ServiceAccount.
    await admin.apply({ apiVersion: "v1", kind: "Namespace", metadata: { name: "after-restart" } });
    await waitForObject(
      admin,
      { apiVersion: "v1", kind: "ServiceAccount", namespace: "after-restart", name: "default" },
      () => true,
      60_000,
      "the default ServiceAccount of a namespace made after the restart",
    );
    expect(isAlive(again.pid)).toBe(true);
  });

  it("leaves no process, port or directory behind when disposed", async () => {
    for (const w of watches) w.stop();
    await operator.manager.stop();
    expect(isAlive(operator.manager.pid)).toBe(false);
    expect(pids.length).toBeGreaterThanOrEqual(5);
    await cluster.dispose();
    expect(pids.filter(isAlive)).toEqual([]);
    expect(listenersOf(server, cluster.name)).toEqual([]);
    expect(existsSync(`${testConfig().cacheDir}/kwok/clusters/${cluster.name}`)).toBe(false);
  });
});
