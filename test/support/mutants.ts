import { cp } from "node:fs/promises";
import { join } from "node:path";
import { loadMutant, materializeEdits } from "../../grader/src/runner/source.ts";
import { referenceOperatorDir, repoRoot, tempDir } from "./env.ts";
import { tarProject } from "./service-stack.ts";

/** A copy of the reference with a mutant's edits applied in place, packed as a learner would. */
export async function mutantArchive(name: string): Promise<{ archive: string; fails: string[] }> {
  const mutant = await loadMutant(join(repoRoot, "test/mutants", name));
  const dir = join(tempDir("mutant"), "postgres-operator");
  await cp(referenceOperatorDir, dir, { recursive: true, filter: (src) => !/\/(bin|cover\.out)$/.test(src) });
  const overlay = await materializeEdits(dir, mutant.edits, join(tempDir("edits"), "out"));
  for (const [file, edited] of Object.entries(overlay)) await cp(edited, join(dir, file));
  return { archive: await tarProject(dir), fails: mutant.fails };
}
