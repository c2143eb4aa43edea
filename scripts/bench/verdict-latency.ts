// Measures how long after a status write its verdict is decided: a cluster with the lab's CRDs and
// no operator; this script writes a Backup's status itself and times the live check's decision.
import { KubeObjectSchema } from "../../grader/src/engine/trace.ts";
import { createProvider } from "../../grader/src/clusters/select.ts";
import { renderCheck } from "../../grader/src/engine/render.ts";
import { liveCheck } from "../../grader/src/grading/live-check.ts";
import { createKubeClient } from "../../grader/src/kube/client.ts";
import { createRecorder } from "../../grader/src/kube/recorder.ts";
import { installCrds } from "../../grader/src/runner/operator.ts";
import { readCrds } from "../../grader/src/runner/project.ts";
import { REFERENCE_OPERATOR_DIR } from "../../grader/src/runner/reference.ts";
import { config, median, toolchain } from "./support.ts";

const samples = Number(process.argv[2] ?? "30");
const provider = createProvider("kwok", {
  config,
  toolchain: await toolchain(),
  env: process.env,
  log: () => undefined,
});
const cluster = await provider.create({ labels: { "labgrader.dev/benchmark": "latency" } });
try {
  const admin = createKubeClient(cluster.kubeconfigPath);
  await installCrds(admin, await readCrds(REFERENCE_OPERATOR_DIR));
  await admin.apply({ apiVersion: "v1", kind: "Namespace", metadata: { name: "latency" } });
  const started = performance.now();
  const clock = () => performance.now() - started;
  const recorder = createRecorder(admin, [{ apiVersion: "database.example.com/v1", kind: "Backup" }], clock);
  await recorder.ready;
  const latencies: number[] = [];
  for (let i = 0; i < samples; i++) {
    const name = `b${i}`;
    await admin.apply(
      KubeObjectSchema.parse({
        apiVersion: "database.example.com/v1",
        kind: "Backup",
        metadata: { name, namespace: "latency" },
        spec: { databaseRef: { name: "db" } },
      }),
    );
    const check = renderCheck(
      {
        id: `completed-${i}`,
        task: "1.4",
        type: "expect",
        title: "completed",
        points: 1,
        severity: "required",
        timeout: "30s",
        hint: "",
        params: { object: { kind: "Backup", name }, expr: 'self.?status.?phase.orValue("") == "Completed"' },
      } as never,
      {},
    );
    const verdict = liveCheck({
      recorder,
      check,
      namespace: "latency",
      clock,
      abort: new Promise<string>(() => undefined),
    });
    const written = clock();
    await admin.patch(
      { apiVersion: "database.example.com/v1", kind: "Backup", name, namespace: "latency" },
      { status: { phase: "Completed" } },
      { subresource: "status" },
    );
    const decided = await verdict;
    if (decided.status !== "passed") throw new Error(`expected a pass, got ${decided.status}`);
    latencies.push(clock() - written);
  }
  recorder.stop();
  console.log(
    `status write -> verdict (n=${samples}): median ${median(latencies).toFixed(1)} ms, min ${Math.min(...latencies).toFixed(1)} ms, max ${Math.max(...latencies).toFixed(1)} ms`,
  );
} finally {
  await cluster.dispose();
}
