// Grades the reference operator on Lab 8.2 several times and prints each score and time, when each
// phase began and when each scenario's last check was decided; then the medians. Optionally several
// grades at once, and once more with the course's own delays.
// Usage: npm run bench:grade -- [runs] [--parallel N] [--course]
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { managerEnvironment } from "../../grader/src/runner/manager-environment.ts";
import { createProvider } from "../../grader/src/clusters/select.ts";
import type { GradeResult } from "../../grader/src/contracts.ts";
import { hostCapacity } from "../../grader/src/grading/capacity.ts";
import { gradeOperator } from "../../grader/src/grading/grade.ts";
import { pool } from "../../grader/src/grading/validate.ts";
import { loadLab } from "../../grader/src/labs/load.ts";
import { REFERENCE_OPERATOR_DIR } from "../../grader/src/runner/reference.ts";
import { config, fmt, median, toolchain } from "./support.ts";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { parallel: { type: "string" }, course: { type: "boolean" } },
});
const runs = Number(positionals[0] ?? "5");
const parallel = Number(values.parallel ?? "1");
const tools = await toolchain();
const provider = createProvider("kwok", { config, toolchain: tools, env: process.env, log: () => undefined });
const lab = await loadLab("composing-operators");

interface Timed {
  result: GradeResult;
  /** ms on the grade clock at which each phase began. */
  phases: Record<string, number>;
}

async function gradeOnce(managerArgs: string[]): Promise<Timed> {
  const phases: Record<string, number> = {};
  const result = await gradeOperator({
    lab,
    source: { kind: "project", dir: REFERENCE_OPERATOR_DIR },
    operatorName: "reference",
    provider,
    workDir: await mkdtemp(join(tmpdir(), "labgrader-bench-")),
    controllerGen: tools.binaries["controller-gen"],
    goEnv: process.env,
    managerEnv: managerEnvironment(process.env),
    managerArgs,
    capacity: hostCapacity(config),
    onProgress: (p) => {
      if (p.type === "phase") phases[p.phase] = p.at;
    },
  });
  return { result, phases };
}

/** When each scenario's last check was decided (ms on the grade clock). */
function scenarioEnds(result: GradeResult): Record<string, number> {
  const ends: Record<string, number> = {};
  for (const c of result.checks) {
    const scenario = c.scenario ?? "api";
    ends[scenario] = Math.max(ends[scenario] ?? 0, c.decidedAtMs);
  }
  return ends;
}

const timed = await pool(
  Array.from({ length: runs }, (_, i) => i + 1),
  parallel,
  async (i) => {
    const t = await gradeOnce(["--phase-delay=1s"]);
    const r = t.result;
    const notPassed = r.checks.filter((c) => c.status !== "passed").map((c) => `${c.id}=${c.status}`);
    const ends = Object.entries(scenarioEnds(r))
      .map(([s, at]) => `${s} ${fmt(at)}`)
      .join(", ");
    console.log(
      `run ${String(i).padStart(2)}: ${r.score}/${r.maxScore} ${r.status} in ${fmt(r.durationMs)} (waited ${fmt(r.waitedMs ?? 0)}); provisioning at ${fmt(t.phases.provisioning ?? 0)}, checking at ${fmt(t.phases.checking ?? 0)}; ${ends}${notPassed.length ? `  (${notPassed.join(", ")})` : ""}`,
    );
    return t;
  },
);

const full = timed.filter(
  ({ result: r }) => r.status === "graded" && r.score === r.maxScore && r.checks.every((c) => c.status === "passed"),
).length;
console.log(
  `reference with --phase-delay=1s, ${parallel} at once: ${full}/${runs} runs with full marks; grade time median ${fmt(median(timed.map((t) => t.result.durationMs)))}, max ${fmt(Math.max(...timed.map((t) => t.result.durationMs)))}`,
);
console.log(`  checking began at median ${fmt(median(timed.map((t) => t.phases.checking ?? 0)))}`);
for (const scenario of Object.keys(scenarioEnds(timed[0]!.result))) {
  const ends = timed.map((t) => scenarioEnds(t.result)[scenario] ?? 0);
  console.log(
    `  scenario ${scenario.padEnd(40)} last check decided at median ${fmt(median(ends))} (max ${fmt(Math.max(...ends))})`,
  );
}

if (values.course) {
  const { result: r } = await gradeOnce([]);
  console.log(
    `reference with the course's delays (15 s phase delay): ${r.score}/${r.maxScore} ${r.status} in ${fmt(r.durationMs)}`,
  );
}
