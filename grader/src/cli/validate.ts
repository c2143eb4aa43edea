import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import type { GradeResult } from "../contracts.ts";
import { gradeOperator } from "../grading/grade.ts";
import { toJUnit } from "../grading/junit.ts";
import { gradeUntilGradable, PLATFORM_RETRIES } from "../grading/retry.ts";
import {
  compare,
  compareControl,
  loadControls,
  longestFirst,
  readTimings,
  writeTimings,
  loadMutants,
  pool,
  uncoveredRequiredChecks,
  type ValidationOutcome,
} from "../grading/validate.ts";
import type { Lab } from "../engine/lab.ts";
import { listLabs, loadLab } from "../labs/load.ts";
import { REFERENCE_OPERATOR_DIR } from "../runner/reference.ts";
import type { OperatorSource, Variant } from "../runner/source.ts";
import type { CliContext } from "./context.ts";
import { gradingDeps } from "./grading-deps.ts";

export const MUTANTS_DIR = fileURLToPath(new URL("../../../test/mutants/", import.meta.url));
export const CONTROLS_DIR = fileURLToPath(new URL("../../../test/controls/", import.meta.url));

export const validateHelp = `labgrader validate [--lab ID] [--only NAME,…] [--concurrency N] [--provider …]
                   [--retries N] [--course-timings] [--keep-work] [--json FILE] [--junit FILE]
  Grades the reference operator on every lab (it must get full marks), every mutant in
  test/mutants (each must fail exactly the checks it lists) and every control in test/controls
  (correct operators written differently: full marks, or for a score control at most its points).
  --concurrency defaults to the host's grade slots (LABGRADER_GRADE_SLOTS).
  A grade the platform could not tell (not gradable) is run again, up to --retries times
  (default ${PLATFORM_RETRIES}). Uses --phase-delay=1s unless --course-timings. Exits non-zero on any mismatch.
  Each grade's work folder (project copy, manager, logs) is removed once it is judged, unless
  --keep-work (then the folder is printed).`;

interface ValidationJob {
  lab: Lab;
  name: string;
  source: OperatorSource;
  judge: (result: GradeResult) => ValidationOutcome;
}

export async function validateCommand(args: string[], ctx: CliContext): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      lab: { type: "string" },
      only: { type: "string" },
      concurrency: { type: "string" },
      retries: { type: "string" },
      provider: { type: "string" },
      "course-timings": { type: "boolean" },
      "keep-work": { type: "boolean" },
      json: { type: "string" },
      junit: { type: "string" },
    },
  });
  const retries = Number(values.retries ?? PLATFORM_RETRIES);
  if (!Number.isInteger(retries) || retries < 0)
    throw new Error(`--retries wants a whole number, not ${values.retries}`);
  // Grades mostly wait on the lab's timings: as many at once as the host's budget for grades.
  const concurrency = Number(values.concurrency ?? ctx.config.gradeSlots);
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw new Error(`--concurrency wants a whole number of at least 1, not ${values.concurrency}`);
  const deps = await gradingDeps(ctx, values.provider);
  const labIds = values.lab ? [values.lab] : await listLabs();
  const mutants = await loadMutants(MUTANTS_DIR);
  const controls = await loadControls(CONTROLS_DIR);
  const started = Date.now();
  const only = values.only?.split(",").map((s) => s.trim());
  const managerArgs = values["course-timings"] ? [] : ["--phase-delay=1s"];
  // A grade's folder holds a copy of the project and its ~50 MB manager: a hundred of them kept
  // would fill a small disk, so each goes once judged (and the root at the end).
  const keepWork = values["keep-work"] === true;
  const workRoot = await mkdtemp(join(tmpdir(), "labgrader-validate-"));
  const outcomes: ValidationOutcome[] = [];
  const results: GradeResult[] = [];
  let problems = 0;

  const jobs: ValidationJob[] = [];
  for (const labId of labIds) {
    const lab = await loadLab(labId);
    const required = lab.checks.filter((c) => c.severity === "required").map((c) => c.id);
    const labMutants = mutants.filter((m) => m.mutant.lab === labId);
    for (const m of labMutants) {
      const unknown = [...m.mutant.fails, ...m.mutant.mayFail].filter((id) => !lab.checks.some((c) => c.id === id));
      if (unknown.length > 0) throw new Error(`mutant ${m.name} lists unknown checks: ${unknown.join(", ")}`);
    }
    const uncovered = uncoveredRequiredChecks(required, labMutants);
    if (uncovered.length > 0) {
      problems += 1;
      ctx.log(`${labId}: no mutant fails these required checks: ${uncovered.join(", ")}`);
    }
    const variant = (v: Variant): OperatorSource => ({
      kind: "variant",
      referenceDir: REFERENCE_OPERATOR_DIR,
      variant: v,
    });
    const labJobs: ValidationJob[] = [
      {
        lab,
        name: "reference",
        source: { kind: "project" as const, dir: REFERENCE_OPERATOR_DIR },
        judge: (r: GradeResult) => compare({ operator: `${labId}/reference`, fails: [] }, r),
      },
      ...labMutants.map((m) => ({
        lab,
        name: m.name,
        source: variant(m.mutant),
        judge: (r: GradeResult) =>
          compare({ operator: `${labId}/${m.name}`, fails: m.mutant.fails, mayFail: m.mutant.mayFail }, r),
      })),
      ...controls
        .filter((c) => c.control.lab === labId)
        .map((c) => ({
          lab,
          name: `control/${c.name}`,
          source: variant(c.control),
          judge: (r: GradeResult) => compareControl(`${labId}/control/${c.name}`, c.control, r),
        })),
    ];
    jobs.push(...labJobs.filter((j) => !only || only.includes(j.name)));
  }
  // One pool for every lab, longest grade first (as measured by the last run on this host and this
  // provider): a pool per lab would wait for each lab's slowest grade before starting the next lab.
  const timingsFile = join(ctx.config.cacheDir, `validate-timings-${deps.provider.name}.json`);
  const lastTimes = await readTimings(timingsFile);
  const graded = await pool(
    longestFirst(jobs, (j) => lastTimes[`${j.lab.id}/${j.name}`]),
    concurrency,
    async (job) => {
      const labId = job.lab.id;
      const jobDir = join(workRoot, labId, job.name);
      const result = await gradeUntilGradable(
        (attempt) =>
          gradeOperator({
            lab: job.lab,
            source: job.source,
            operatorName: job.name,
            ...deps,
            workDir: join(jobDir, String(attempt)),
            managerArgs,
          }),
        retries,
        (r) =>
          ctx.log(`again ${labId} ${job.name.padEnd(32)} not gradable: ${r.reason ?? "the platform could not tell"}`),
      ).finally(() => (keepWork ? undefined : rm(jobDir, { recursive: true, force: true })));
      const outcome = job.judge(result);
      ctx.log(
        `${outcome.ok ? "ok  " : "FAIL"} ${labId} ${job.name.padEnd(32)} ${outcome.score.padEnd(7)} ${(result.durationMs / 1000).toFixed(1)} s${describe(outcome)}`,
      );
      return { job, result, outcome };
    },
  );
  if (keepWork) ctx.log(`validate: work folders kept in ${workRoot}`);
  else await rm(workRoot, { recursive: true, force: true });
  for (const g of graded) {
    results.push(g.result);
    outcomes.push(g.outcome);
  }
  await writeTimings(
    timingsFile,
    Object.fromEntries(graded.map((g) => [`${g.job.lab.id}/${g.job.name}`, g.result.durationMs])),
  ).catch((e: unknown) => ctx.log(`validate: could not keep grade times in ${timingsFile}: ${String(e)}`));
  if (values.json) await writeFile(values.json, JSON.stringify({ outcomes, results }, null, 2));
  if (values.junit) await writeFile(values.junit, toJUnit(results));
  const failedOutcomes = outcomes.filter((o) => !o.ok).length;
  ctx.out(
    `validate: ${outcomes.length - failedOutcomes} of ${outcomes.length} operators graded as expected in ${((Date.now() - started) / 1000).toFixed(0)} s${problems ? `; ${problems} coverage problem(s)` : ""}`,
  );
  return failedOutcomes === 0 && problems === 0 ? 0 : 1;
}

function describe(o: ValidationOutcome): string {
  const parts = [
    o.missed.length ? `should have failed: ${o.missed.join(", ")}` : "",
    o.unexpected.length ? `failed unexpectedly: ${o.unexpected.join(", ")}` : "",
    o.errors.length
      ? `not gradable: ${o.errors[0]}${o.errors.length > 1 ? ` (and ${o.errors.length - 1} more)` : ""}`
      : "",
  ].filter(Boolean);
  return parts.length ? `\n     ${parts.join("\n     ")}` : "";
}
