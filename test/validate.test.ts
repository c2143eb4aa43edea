import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { ValidationOutcome } from "../grader/src/grading/validate.ts";
import { labgrader } from "./support/cli.ts";
import { repoRoot, tempDir } from "./support/env.ts";

const mutants = readdirSync(join(repoRoot, "test/mutants"), { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);

// `labgrader validate` is the proof that the checks work: the reference operator gets full marks
// and every mutant fails exactly the checks it lists. One test per operator, from one run.
describe("labgrader validate", () => {
  const outcomes = new Map<string, ValidationOutcome>();
  let code = -1;
  let stderr = "";

  beforeAll(async () => {
    const file = join(tempDir("validate"), "validate.json");
    const run = await labgrader(["validate", "--concurrency", "6", "--json", file], 1_800_000);
    code = run.code;
    stderr = run.stderr;
    const report = JSON.parse(readFileSync(file, "utf8")) as { outcomes: ValidationOutcome[] };
    for (const o of report.outcomes) outcomes.set(o.operator, o);
  }, 1_800_000);

  it("exits 0 with every required check covered by a mutant", () => {
    expect(stderr).not.toContain("no mutant fails");
    expect(code).toBe(0);
  });

  it.each(["reference", ...mutants])("%s is graded as expected", (name) => {
    const outcome = outcomes.get(name);
    expect(outcome, `no outcome for ${name}`).toBeDefined();
    expect({ missed: outcome!.missed, unexpected: outcome!.unexpected, errors: outcome!.errors }).toEqual({ missed: [], unexpected: [], errors: [] });
  });
});
