// kwok and kind side by side on this machine, in one run: create-to-ready, memory per idle cluster,
// a full Lab 8.2 grade of the reference operator, and three such grades at once. Prints a table.
// Usage: npm run bench:kind -- [samples]   (numbers, not assertions: run it on a quiet machine)
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { managerEnvironment } from "../../grader/src/runner/manager-environment.ts";
import { prepareProvider, type PreparedProvider } from "../../grader/src/clusters/select.ts";
import type { Cluster } from "../../grader/src/clusters/provider.ts";
import { gradeOperator } from "../../grader/src/grading/grade.ts";
import { loadLab } from "../../grader/src/labs/load.ts";
import { REFERENCE_OPERATOR_DIR } from "../../grader/src/runner/reference.ts";
import { config, fmt, median, rssMb, toolchain } from "./support.ts";

const samples = Number(process.argv[2] ?? "3");
const tools = await toolchain();
const lab = await loadLab("composing-operators");
const log = (line: string) => process.stderr.write(`${line}\n`);

/** Memory of a cluster: kwok's host processes' RSS; a kind node container's cgroup usage as `docker stats` reports it. */
function clusterMb(cluster: Cluster): number {
  if (cluster.provider === "kwok") {
    const dir = join(config.cacheDir, "kwok", "clusters", cluster.name, "pids");
    return readdirSync(dir).reduce((sum, f) => sum + rssMb(Number(readFileSync(join(dir, f), "utf8"))), 0);
  }
  const usage = execFileSync(
    "docker",
    ["stats", "--no-stream", "--format", "{{.MemUsage}}", `${cluster.name}-control-plane`],
    { encoding: "utf8" },
  )
    .split("/")[0]!
    .trim();
  const [, value, unit] = /^([\d.]+)\s*([KMG]i?B)$/.exec(usage) ?? [];
  const scale: Record<string, number> = { KiB: 1 / 1024, MiB: 1, GiB: 1024, kB: 1 / 1000, MB: 1, GB: 1000 };
  return Number(value) * (scale[unit ?? "MiB"] ?? 1);
}

async function grade(prepared: PreparedProvider) {
  const started = performance.now();
  const workDir = await mkdtemp(join(tmpdir(), "labgrader-bench-kind-"));
  const result = await gradeOperator({
    lab,
    source: { kind: "project", dir: REFERENCE_OPERATOR_DIR },
    operatorName: "reference",
    provider: prepared.provider,
    ...(prepared.kubectl ? { kubectl: prepared.kubectl } : {}),
    workDir,
    controllerGen: tools.binaries["controller-gen"],
    goEnv: process.env,
    managerEnv: managerEnvironment(process.env),
    managerArgs: ["--phase-delay=1s"],
  }).finally(() => rm(workDir, { recursive: true, force: true }));
  const wrong = result.checks.filter((c) => c.status !== "passed").map((c) => `${c.id}=${c.status}`);
  return { ms: performance.now() - started, score: `${result.score}/${result.maxScore}`, wrong };
}

const rows: string[][] = [];
for (const name of ["kwok", "kind"] as const) {
  const prepared = await prepareProvider(name, { config, toolchain: tools, env: process.env, log }, false);
  const creates: number[] = [];
  const memory: number[] = [];
  for (let i = 0; i < samples; i++) {
    const started = performance.now();
    const cluster = await prepared.provider.create({ labels: { "labgrader.dev/benchmark": "kind" } });
    creates.push(performance.now() - started);
    // Idle: after the create settles (kind's system pods start during the first seconds).
    await new Promise((r) => setTimeout(r, 15_000));
    memory.push(clusterMb(cluster));
    await cluster.dispose();
  }
  const one = await grade(prepared);
  log(`${name}: one grade ${one.score} in ${fmt(one.ms)} ${one.wrong.join(", ")}`);
  const parallelStarted = performance.now();
  const three = await Promise.all([grade(prepared), grade(prepared), grade(prepared)]);
  const parallelMs = performance.now() - parallelStarted;
  log(`${name}: three grades ${three.map((t) => `${t.score} in ${fmt(t.ms)} ${t.wrong.join(", ")}`).join("; ")}`);
  rows.push([
    name,
    `${fmt(median(creates))} (${fmt(Math.min(...creates))}–${fmt(Math.max(...creates))})`,
    `${median(memory).toFixed(0)} MB`,
    `${fmt(one.ms)} ${one.score}`,
    `${fmt(parallelMs)} wall; ${three.map((t) => t.score).join(", ")}`,
  ]);
}

const header = [
  "provider",
  `create-to-ready, median of ${samples} (min–max)`,
  "memory per idle cluster",
  "Lab 8.2 grade, reference",
  "three grades at once",
];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
console.log(line(header));
console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
for (const r of rows) console.log(line(r));
