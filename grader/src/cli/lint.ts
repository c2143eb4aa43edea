import { parseArgs } from "node:util";
import { formatProblem } from "../engine/yaml-location.ts";
import { loadMutants } from "../grading/validate.ts";
import type { Lab } from "../engine/lab.ts";
import { listLabs, lintLabs, loadLab } from "../labs/load.ts";
import { REFERENCE_OPERATOR_DIR } from "../runner/reference.ts";
import { materializeEdits } from "../runner/source.ts";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CliContext } from "./context.ts";
import { MUTANTS_DIR } from "./validate.ts";

export const lintHelp = `labgrader lint
  Checks every lab in labs/ (schema, references between checks, tasks, fixtures, deadlock-free
  fixtures) and every mutant in test/mutants (its edits apply, the checks it names exist).`;

export async function lintCommand(args: string[], ctx: CliContext): Promise<number> {
  parseArgs({ args, options: {} });
  const problems = (await lintLabs()).map(formatProblem);
  const scratch = await mkdtemp(join(tmpdir(), "labgrader-lint-"));
  const labs = new Map<string, Promise<Lab | undefined>>();
  const labOf = (id: string) => {
    // A lab that does not load is reported once, above; its mutants are checked against nothing.
    if (!labs.has(id)) labs.set(id, loadLab(id).catch(() => undefined));
    return labs.get(id)!;
  };
  for (const m of await loadMutants(MUTANTS_DIR)) {
    try {
      const lab = await labOf(m.mutant.lab);
      if (!lab) {
        if (!(await listLabs()).includes(m.mutant.lab)) problems.push(`test/mutants/${m.name}: unknown lab ${m.mutant.lab}`);
        continue;
      }
      for (const id of m.mutant.fails) if (!lab.checks.some((c) => c.id === id)) problems.push(`test/mutants/${m.name}: lab ${lab.id} has no check ${id}`);
      await materializeEdits(REFERENCE_OPERATOR_DIR, m.mutant.edits, join(scratch, m.name));
    } catch (e) {
      problems.push(`test/mutants/${m.name}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  for (const p of problems) ctx.out(p);
  ctx.log(problems.length === 0 ? "lint: every lab and mutant is valid" : `lint: ${problems.length} problem(s)`);
  return problems.length === 0 ? 0 : 1;
}
