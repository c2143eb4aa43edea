import { parseArgs } from "node:util";
import { formatProblem } from "../engine/yaml-location.ts";
import { loadControls, loadMutants } from "../grading/validate.ts";
import type { Lab } from "../engine/lab.ts";
import { lintCourseFile } from "../labs/course.ts";
import { listLabs, lintLabs, loadLab } from "../labs/load.ts";
import { REFERENCE_OPERATOR_DIR } from "../runner/reference.ts";
import { materializeEdits } from "../runner/source.ts";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CliContext } from "./context.ts";
import { CONTROLS_DIR, MUTANTS_DIR } from "./validate.ts";

export const lintHelp = `labgrader lint
  Checks every lab in labs/ (schema, references between checks, tasks, fixtures, deadlock-free
  fixtures), the course in labs/course.yaml (its labs exist and are listed once, weights above 0,
  prerequisites earlier in the course and without a cycle), every mutant in test/mutants (its edits apply, the checks it names exist) and every
  control in test/controls (its edits apply, the tasks it names exist).`;

export async function lintCommand(args: string[], ctx: CliContext): Promise<number> {
  parseArgs({ args, options: {} });
  const problems = [...(await lintLabs()), ...(await lintCourseFile())].map(formatProblem);
  const labs = new Map<string, Promise<Lab | undefined>>();
  const labOf = (id: string) => {
    // A lab that does not load is reported once, above; its mutants are checked against nothing.
    if (!labs.has(id))
      labs.set(
        id,
        loadLab(id).catch(() => undefined),
      );
    return labs.get(id)!;
  };
  const variants = [
    ...(await loadMutants(MUTANTS_DIR)).map((m) => ({
      where: `test/mutants/${m.name}`,
      variant: m.mutant,
      checks: [...m.mutant.fails, ...m.mutant.mayFail],
      tasks: [] as string[],
    })),
    ...(await loadControls(CONTROLS_DIR)).map((c) => ({
      where: `test/controls/${c.name}`,
      variant: c.control,
      checks: [] as string[],
      tasks: c.control.score?.losesTasks ?? [],
    })),
  ];
  const scratch = await mkdtemp(join(tmpdir(), "labgrader-lint-"));
  try {
    for (const { where, variant, checks, tasks } of variants) {
      try {
        const lab = await labOf(variant.lab);
        if (!lab) {
          if (!(await listLabs()).includes(variant.lab)) problems.push(`${where}: unknown lab ${variant.lab}`);
          continue;
        }
        for (const id of checks)
          if (!lab.checks.some((c) => c.id === id)) problems.push(`${where}: lab ${lab.id} has no check ${id}`);
        for (const id of tasks)
          if (!lab.tasks.some((t) => t.id === id)) problems.push(`${where}: lab ${lab.id} has no task ${id}`);
        await materializeEdits(REFERENCE_OPERATOR_DIR, variant.edits, join(scratch, where));
      } catch (e) {
        problems.push(`${where}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  for (const p of problems) ctx.out(p);
  ctx.log(
    problems.length === 0
      ? "lint: every lab, the course, every mutant and control is valid"
      : `lint: ${problems.length} problem(s)`,
  );
  return problems.length === 0 ? 0 : 1;
}
