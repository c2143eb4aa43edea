// Submit endpoint under load from a second process, on loopback: accepted submissions per second
// and latency percentiles, for JSON submissions and for project archive uploads (each upload is
// unpacked and checked before it is accepted). No worker runs: this measures accepting only.
import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { referenceOperatorDir, tempDir } from "../../test/support/env.ts";
import { startStack, tarProject } from "../../test/support/service-stack.ts";

const run = promisify(execFile);
const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

// 3 300 submissions from 20 accounts: far past the per-account submission limit, which is not what this measures.
const stack = await startStack({ serverEnv: { LABGRADER_SUBMISSIONS_PER_WINDOW: "1000000" } });
try {
  const tokens: string[] = [];
  for (let i = 0; i < 20; i++) tokens.push((await stack.user(`bench-${i}`, "ci")).token);
  const tokensFile = join(tempDir("bench"), "tokens");
  await writeFile(tokensFile, tokens.join("\n"));
  const archive = await tarProject(referenceOperatorDir);
  const rows: string[] = [];
  for (const [label, count, extra] of [
    ["JSON {reference: true}", 3000, []],
    ["archive upload (reference project)", 300, [archive]],
  ] as const) {
    const { stdout } = await run(
      process.execPath,
      [join(import.meta.dirname, "submit-load.ts"), stack.baseUrl, tokensFile, String(count), "16", "60", ...extra],
      { maxBuffer: 64 << 20 },
    );
    const result = JSON.parse(stdout) as {
      requests: number;
      seconds: number;
      statuses: Record<string, number>;
      latencies: number[];
    };
    const sorted = [...result.latencies].sort((a, b) => a - b);
    const accepted = result.statuses["202"] ?? 0;
    rows.push(
      `| ${label} | ${result.requests} | ${JSON.stringify(result.statuses)} | ${(accepted / result.seconds).toFixed(1)} | ${percentile(sorted, 50).toFixed(1)} | ${percentile(sorted, 99).toFixed(1)} | ${sorted.at(-1)!.toFixed(1)} |`,
    );
  }
  console.log("| submission | requests | statuses | accepted/s | p50 ms | p99 ms | max ms |");
  console.log("|---|---|---|---|---|---|---|");
  for (const r of rows) console.log(r);
  console.log(
    `(16 concurrent connections from a second process, loopback, 20 accounts; archive ${(await import("node:fs")).statSync(archive).size} bytes)`,
  );
} finally {
  await stack.stop();
}
