// N reference submissions made at once (default 30), graded by one worker process: how many got a
// verdict, how many were not gradable, wall time to drain, and peak memory of the machine.
import { readFileSync } from "node:fs";
import { api, startStack, waitForAttempt } from "../../test/support/service-stack.ts";

const count = Number(process.argv[2] ?? 30);
const concurrency = Number(process.argv[3] ?? 10);
const usedMb = () => {
  const info = readFileSync("/proc/meminfo", "utf8");
  const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(info)?.[1] ?? 0);
  return (kb("MemTotal") - kb("MemAvailable")) / 1024;
};

const stack = await startStack({ workerEnv: { LABGRADER_WORKER_CONCURRENCY: String(concurrency) } });
try {
  await stack.startWorker();
  const users = await Promise.all(Array.from({ length: count }, (_, i) => stack.user(`drain-${i}`, "ci")));
  const baseline = usedMb();
  let peak = baseline;
  const sampler = setInterval(() => (peak = Math.max(peak, usedMb())), 1_000);
  const started = Date.now();
  const attempts = await Promise.all(
    users.map(async (u) => ({
      u,
      id: (
        await api<{ attemptId: string }>(stack, u.token, "POST", "/api/v1/labs/composing-operators/submissions", {
          reference: true,
        })
      ).body.attemptId,
    })),
  );
  const results = await Promise.all(
    attempts.map(({ u, id }) =>
      waitForAttempt<{ status: string; score: number; maxScore: number; reason?: string }>(
        stack,
        u.token,
        id,
        3_600_000,
      ),
    ),
  );
  const wall = (Date.now() - started) / 1000;
  clearInterval(sampler);
  const graded = results.filter((r) => r.status === "graded");
  console.log(`submissions: ${count}, worker concurrency: ${concurrency}`);
  console.log(
    `graded: ${graded.length} (full marks: ${graded.filter((r) => r.score === r.maxScore).length}), not gradable: ${results.filter((r) => r.status === "not_gradable").length}`,
  );
  for (const r of results.filter((r) => r.status !== "graded" || r.score !== r.maxScore))
    console.log(`  ${r.status} ${r.score}/${r.maxScore} ${r.reason ?? ""}`);
  console.log(`wall time to drain: ${wall.toFixed(1)} s`);
  console.log(
    `machine memory in use: baseline ${(baseline / 1024).toFixed(1)} GiB, peak ${(peak / 1024).toFixed(1)} GiB (+${((peak - baseline) / 1024).toFixed(1)} GiB)`,
  );
} finally {
  await stack.stop();
}
