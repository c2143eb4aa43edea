// Grades the reference operator on a lab (Lab 8.2 unless --lab names another) several times and
// prints each score and time, when each phase began and when each scenario's last check was decided;
// then the medians. Optionally several grades at once, and once more with the course's own delays.
// --every-lab does this for each lab of the course in order and ends with a table, one row a lab.
// Usage: npm run bench:grade -- [runs] [--parallel N] [--course] [--lab ID | --every-lab]
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { managerEnvironment } from "../../grader/src/runner/manager-environment.ts";
import { createProvider } from "../../grader/src/clusters/select.ts";
import type { GradeResult } from "../../grader/src/contracts.ts";
import { hostCapacity } from "../../grader/src/grading/capacity.ts";
import { gradeOperator } from "../../grader/src/grading/grade.ts";
import { pool } from "../../grader/src/grading/validate.ts";
import { loadCourse } from "../../grader/src/labs/course.ts";
import { loadLab } from "../../grader/src/labs/load.ts";
import type { Lab } from "../../grader/src/engine/lab.ts";
import { REFERENCE_OPERATOR_DIR } from "../../grader/src/runner/reference.ts";
import { sandboxSettings } from "../../grader/src/runner/sandbox.ts";
import { config, fmt, median, toolchain } from "./support.ts";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    parallel: { type: "string" },
    course: { type: "boolean" },
    lab: { type: "string" },
    "every-lab": { type: "boolean" },
  },
});
const runs = Number(positionals[0] ?? "5");
const parallel = Number(values.parallel ?? "1");
const tools = await toolchain();
const provider = createProvider("kwok", { config, toolchain: tools, env: process.env, log: () => undefined });
const labIds = values["every-lab"]
  ? (await loadCourse())!.modules.flatMap((m) => m.labs.map((l) => l.lab))
  : [values.lab ?? "composing-operators"];

interface Timed {
  result: GradeResult;
  /** ms on the grade clock at which each phase began. */
  phases: Record<string, number>;
}

async function gradeOnce(lab: Lab, managerArgs: string[]): Promise<Timed> {
  const phases: Record<string, number> = {};
  const workDir = await mkdtemp(join(tmpdir(), "labgrader-bench-"));
  const result = await gradeOperator({
    lab,
    source: { kind: "project", dir: REFERENCE_OPERATOR_DIR },
    operatorName: "reference",
    provider,
    workDir,
    controllerGen: tools.binaries["controller-gen"],
    goEnv: process.env,
    managerEnv: managerEnvironment(process.env),
    managerArgs,
    capacity: hostCapacity(config),
    // A lab whose managers run as a Deployment (Lab 7.3) renders config/default with kubectl and
    // runs each pod's manager in a sandbox of its own, as `labgrader grade` does.
    kubectl: tools.binaries.kubectl,
    podSandbox: sandboxSettings(config, { seccomp: tools.binaries["labgrader-seccomp"] }),
    onProgress: (p) => {
      if (p.type === "phase") phases[p.phase] = p.at;
    },
  }).finally(() => rm(workDir, { recursive: true, force: true }));
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

interface LabSummary {
  lab: string;
  tasks: number;
  checks: number;
  points: number;
  full: number;
  median: number;
  max: number;
}

async function benchLab(lab: Lab): Promise<LabSummary> {
  const timed = await pool(
    Array.from({ length: runs }, (_, i) => i + 1),
    parallel,
    async (i) => {
      const t = await gradeOnce(lab, ["--phase-delay=1s"]);
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
    `${lab.id}: reference with --phase-delay=1s, ${parallel} at once: ${full}/${runs} runs with full marks; grade time median ${fmt(median(timed.map((t) => t.result.durationMs)))}, max ${fmt(Math.max(...timed.map((t) => t.result.durationMs)))}`,
  );
  console.log(`  checking began at median ${fmt(median(timed.map((t) => t.phases.checking ?? 0)))}`);
  for (const scenario of Object.keys(scenarioEnds(timed[0]!.result))) {
    const ends = timed.map((t) => scenarioEnds(t.result)[scenario] ?? 0);
    console.log(
      `  scenario ${scenario.padEnd(40)} last check decided at median ${fmt(median(ends))} (max ${fmt(Math.max(...ends))})`,
    );
  }

  if (values.course) {
    const { result: r } = await gradeOnce(lab, []);
    console.log(
      `reference with the course's delays (15 s phase delay): ${r.score}/${r.maxScore} ${r.status} in ${fmt(r.durationMs)}`,
    );
  }
  const times = timed.map((t) => t.result.durationMs);
  const first = timed[0]!.result;
  return {
    lab: lab.id,
    tasks: lab.tasks.length,
    checks: first.checks.length,
    points: first.maxScore ?? 0,
    full,
    median: median(times),
    max: Math.max(...times),
  };
}

const summaries: LabSummary[] = [];
for (const id of labIds) summaries.push(await benchLab(await loadLab(id)));
if (summaries.length > 1) {
  console.log(`\n| lab | tasks | checks | points | full marks | grade median | grade max |`);
  console.log(`|---|---|---|---|---|---|---|`);
  for (const x of summaries)
    console.log(
      `| ${x.lab} | ${x.tasks} | ${x.checks} | ${x.points} | ${x.full}/${runs} | ${fmt(x.median)} | ${fmt(x.max)} |`,
    );
}
