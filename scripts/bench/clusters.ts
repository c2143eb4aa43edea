// Prints how fast kwok clusters start and how much memory each costs, how long the reference operator
// takes to bring the lab's Task 4.2 objects to Ready/Completed, and how many clusters can run at
// once before creation takes twice as long. Numbers, not assertions: run it on a quiet machine.
import { readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createProvider } from "../../grader/src/clusters/select.ts";
import type { Cluster } from "../../grader/src/clusters/provider.ts";
import { createKubeClient } from "../../grader/src/kube/client.ts";
import { waitForObject } from "../../grader/src/kube/watch.ts";
import { buildManager } from "../../grader/src/runner/build.ts";
import { startOperator } from "../../grader/src/runner/operator.ts";
import { REFERENCE_OPERATOR_DIR } from "../../grader/src/runner/reference.ts";
import { managerEnvironment } from "../../grader/src/runner/manager-environment.ts";
import { config, cpuSeconds, fmt, median, rssMb, toolchain } from "./support.ts";

const samples = Number(process.argv[2] ?? "5");
const maxParallel = Number(process.argv[3] ?? "8");
const provider = createProvider("kwok", {
  config,
  toolchain: await toolchain(),
  env: process.env,
  log: () => undefined,
});

/** The cluster's component processes (etcd, kube-apiserver, …), from kwokctl's pid files. */
function componentPids(cluster: Cluster): { component: string; pid: number }[] {
  const dir = join(config.cacheDir, "kwok", "clusters", cluster.name, "pids");
  return readdirSync(dir).map((f) => ({
    component: f.replace(/\.pid$/, ""),
    pid: Number(readFileSync(join(dir, f), "utf8")),
  }));
}

function clusterRss(cluster: Cluster): number {
  return componentPids(cluster).reduce((sum, p) => sum + rssMb(p.pid), 0);
}

/** CPU seconds each component has used since it started. */
function clusterCpu(cluster: Cluster): Map<string, number> {
  return new Map(componentPids(cluster).map((p) => [p.component, cpuSeconds(p.pid)]));
}

const IDLE_MS = 30_000;

async function timedCreate(): Promise<{ cluster: Cluster; ms: number }> {
  const started = performance.now();
  const cluster = await provider.create({ labels: { "labgrader.dev/benchmark": "clusters" } });
  return { cluster, ms: performance.now() - started };
}

// 1. Create-to-ready (kwokctl + our bootstrap), RSS and CPU, one cluster at a time: CPU to start,
// and CPU while it sits idle (a grade's cluster mostly waits, and several run at once).
const times: number[] = [];
const rss: number[] = [];
const startCpu = new Map<string, number[]>();
const idleCpu = new Map<string, number[]>();
const add = (into: Map<string, number[]>, component: string, value: number) =>
  into.set(component, [...(into.get(component) ?? []), value]);
for (let i = 0; i < samples; i++) {
  const { cluster, ms } = await timedCreate();
  times.push(ms);
  rss.push(clusterRss(cluster));
  const atReady = clusterCpu(cluster);
  await new Promise((resolve) => setTimeout(resolve, IDLE_MS));
  for (const [component, seconds] of clusterCpu(cluster)) {
    add(startCpu, component, atReady.get(component) ?? 0);
    add(idleCpu, component, ((seconds - (atReady.get(component) ?? 0)) * 60_000) / IDLE_MS);
  }
  await cluster.dispose();
}
console.log(
  `create-to-ready (n=${samples}): median ${fmt(median(times))}, min ${fmt(Math.min(...times))}, max ${fmt(Math.max(...times))}`,
);
console.log(`RSS per idle cluster (n=${samples}): median ${median(rss).toFixed(0)} MB`);
const sum = (m: Map<string, number[]>) => [...m.values()].reduce((s, v) => s + median(v), 0);
const perComponent = (m: Map<string, number[]>) =>
  [...m.entries()].map(([component, values]) => `${component} ${median(values).toFixed(2)}`).join(", ");
console.log(
  `CPU to start a cluster (n=${samples}, medians): ${sum(startCpu).toFixed(2)} s (${perComponent(startCpu)})`,
);
console.log(
  `CPU per minute of an idle cluster (n=${samples}, medians over ${IDLE_MS / 1000} s): ${sum(idleCpu).toFixed(2)} s (${perComponent(idleCpu)})`,
);

// 2. The reference operator on Task 4.2's objects, with --phase-delay=1s.
{
  const scratch = await mkdtemp(join(tmpdir(), "labgrader-bench-clusters-"));
  const { cluster } = await timedCreate();
  const build = await buildManager({
    projectDir: REFERENCE_OPERATOR_DIR,
    outDir: join(scratch, "build"),
    env: process.env,
  });
  if (!build.ok) throw new Error(build.output);
  const admin = createKubeClient(cluster.kubeconfigPath);
  const started = Date.now();
  const operator = await startOperator({
    admin,
    projectDir: REFERENCE_OPERATOR_DIR,
    binary: build.binary,
    workDir: join(scratch, "run"),
    managerArgs: ["--phase-delay=1s"],
    clock: () => Date.now() - started,
    managerEnv: managerEnvironment(process.env),
  });
  await admin.apply({ apiVersion: "v1", kind: "Namespace", metadata: { name: "bench" } });
  const applied = performance.now();
  await admin.apply({
    apiVersion: "database.example.com/v1",
    kind: "Database",
    metadata: { name: "my-database", namespace: "bench" },
    spec: { image: "postgres:14", replicas: 1, databaseName: "mydb", username: "admin", storage: { size: "1Gi" } },
  });
  await admin.apply({
    apiVersion: "database.example.com/v1",
    kind: "Backup",
    metadata: { name: "my-database-backup", namespace: "bench" },
    spec: { databaseRef: { name: "my-database" }, schedule: "0 2 * * *" },
  });
  const phase = (o: unknown) => (o as { status?: { phase?: string } }).status?.phase;
  await waitForObject(
    admin,
    { apiVersion: "database.example.com/v1", kind: "Database", namespace: "bench", name: "my-database" },
    (o) => phase(o) === "Ready",
    120_000,
    "Database Ready",
  );
  const ready = performance.now();
  await waitForObject(
    admin,
    { apiVersion: "database.example.com/v1", kind: "Backup", namespace: "bench", name: "my-database-backup" },
    (o) => phase(o) === "Completed",
    120_000,
    "Backup Completed",
  );
  const completed = performance.now();
  console.log(
    `apply -> Database Ready: ${fmt(ready - applied)}; apply -> Backup Completed: ${fmt(completed - applied)} (--phase-delay=1s; the Backup polls every 10 s)`,
  );
  await operator.manager.stop();
  await cluster.dispose();
  await rm(scratch, { recursive: true, force: true });
}

// 3. Clusters running at once until creating one more takes twice as long as the first.
{
  const running: Cluster[] = [];
  const baseline = median(times);
  let n = 1;
  try {
    for (; n <= maxParallel; n++) {
      const { cluster, ms } = await timedCreate();
      running.push(cluster);
      console.log(
        `  with ${n - 1} running: create-to-ready ${fmt(ms)}, RSS of all ${running.reduce((s, c) => s + clusterRss(c), 0).toFixed(0)} MB`,
      );
      if (ms > 2 * baseline) break;
    }
    console.log(
      n > maxParallel
        ? `create-to-ready stayed under twice the baseline up to ${maxParallel - 1} clusters already running (${maxParallel} in all, the limit of this run)`
        : `create-to-ready doubled with ${n - 1} clusters already running`,
    );
  } finally {
    await Promise.all(running.map((c) => c.dispose()));
  }
}
