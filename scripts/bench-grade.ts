// Grades the reference operator on Lab 8.2 several times in a row and prints each score and time;
// then once with the course's own delays (no --phase-delay). Usage: bench-grade.ts [runs] [--course]
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { managerEnvironment } from "../grader/src/cli/environment.ts";
import { createProvider } from "../grader/src/clusters/select.ts";
import { gradeOperator } from "../grader/src/grading/grade.ts";
import { loadLab } from "../grader/src/labs/load.ts";
import { REFERENCE_OPERATOR_DIR } from "../grader/src/runner/reference.ts";
import { config, fmt, median, toolchain } from "./bench-support.ts";

const runs = Number(process.argv[2] ?? "10");
const course = process.argv.includes("--course");
const tools = await toolchain();
const provider = createProvider("kwok", { config, toolchain: tools, env: process.env, log: () => undefined });
const lab = await loadLab("composing-operators");

async function gradeOnce(managerArgs: string[]) {
  return gradeOperator({
    lab,
    source: { kind: "project", dir: REFERENCE_OPERATOR_DIR },
    operatorName: "reference",
    provider,
    workDir: await mkdtemp(join(tmpdir(), "labgrader-bench-")),
    controllerGen: tools.binaries["controller-gen"],
    goEnv: process.env,
    managerEnv: managerEnvironment(process.env),
    managerArgs,
  });
}

const durations: number[] = [];
let full = 0;
for (let i = 1; i <= runs; i++) {
  const r = await gradeOnce(["--phase-delay=1s"]);
  durations.push(r.durationMs);
  const perfect = r.status === "graded" && r.score === r.maxScore && r.checks.every((c) => c.status === "passed");
  if (perfect) full += 1;
  const notPassed = r.checks.filter((c) => c.status !== "passed").map((c) => `${c.id}=${c.status}`);
  console.log(`run ${String(i).padStart(2)}: ${r.score}/${r.maxScore} ${r.status} in ${fmt(r.durationMs)}${notPassed.length ? `  (${notPassed.join(", ")})` : ""}`);
}
console.log(`reference with --phase-delay=1s: ${full}/${runs} runs with full marks; grade time median ${fmt(median(durations))}, max ${fmt(Math.max(...durations))}`);

if (course) {
  const r = await gradeOnce([]);
  console.log(`reference with the course's delays (15 s phase delay): ${r.score}/${r.maxScore} ${r.status} in ${fmt(r.durationMs)}`);
}
