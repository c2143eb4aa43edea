import { readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import type { GradeResult } from "../grader/src/contracts.ts";
import type { ValidationOutcome } from "../grader/src/grading/validate.ts";
import { labgrader } from "./support/cli.ts";
import { repoRoot, tempDir } from "./support/env.ts";

const folders = (dir: string) =>
  readdirSync(join(repoRoot, dir), { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name);
/** The lab a mutant or control belongs to: validate keys operators by `<lab>/<name>`, since labs' mutants may share a name. */
const labOf = (file: string) => (parse(readFileSync(join(repoRoot, file), "utf8")) as { lab: string }).lab;
const labs = folders("labs");
/**
 * Every lab's reference, mutants and controls, six at a time beside the other integration files on a
 * 2-core host: six labs and ~90 operators took longer than 30 min in CI (2026-12-06), where two labs
 * and 54 operators took 10.
 */
const VALIDATE_MS = 3_600_000;
const mutants = folders("test/mutants").map((name) => `${labOf(`test/mutants/${name}/mutant.yaml`)}/${name}`);
const controls = folders("test/controls").map(
  (name) => `${labOf(`test/controls/${name}/control.yaml`)}/control/${name}`,
);

// `labgrader validate` is the proof that the checks work: the reference operator gets full marks,
// every mutant fails exactly the checks it lists, and every control (a correct operator written
// differently) loses no point. One test per operator, from one run.
describe("labgrader validate", () => {
  const outcomes = new Map<string, ValidationOutcome>();
  const results = new Map<string, GradeResult>();
  let code = -1;
  let stderr = "";
  const workFolders = () => readdirSync(tmpdir()).filter((name) => name.startsWith("labgrader-validate-"));
  let workFoldersBefore: string[] = [];
  let workFoldersAfter: string[] = [];

  beforeAll(async () => {
    const file = join(tempDir("validate"), "validate.json");
    workFoldersBefore = workFolders();
    const run = await labgrader(["validate", "--concurrency", "6", "--json", file], VALIDATE_MS);
    workFoldersAfter = workFolders();
    code = run.code;
    stderr = run.stderr;
    // For the CI log: each operator's line (score, time) and any grade run again after a platform fault.
    for (const line of `${run.stderr}\n${run.stdout}`
      .split("\n")
      .filter((l) => /^(ok {2}|FAIL|again|validate:) /.test(l)))
      console.log(line);
    const report = JSON.parse(readFileSync(file, "utf8")) as { outcomes: ValidationOutcome[]; results: GradeResult[] };
    for (const o of report.outcomes) outcomes.set(o.operator, o);
    for (const r of report.results) results.set(`${r.lab}/${r.operator}`, r);
  }, VALIDATE_MS);

  it("exits 0 with every required check covered by a mutant", () => {
    expect(stderr).not.toContain("no mutant fails");
    expect(code).toBe(0);
  });

  // A grade's folder holds a copy of the project and its ~50 MB manager: kept, a hundred per run
  // filled the disk of a CI host.
  it("leaves no grade's work folder behind", () => {
    expect(workFoldersAfter).toEqual(workFoldersBefore);
  });

  it("has controls beside the mutants: at least eight correct operators written differently, and score controls", () => {
    expect(controls.length).toBeGreaterThanOrEqual(10);
  });

  it.each([...labs.map((lab) => `${lab}/reference`), ...mutants, ...controls])("%s is graded as expected", (name) => {
    const outcome = outcomes.get(name);
    expect(outcome, `no outcome for ${name}`).toBeDefined();
    // On a failure, say what each unexpected check saw, and when: the cause is in the message.
    const result = results.get(name);
    const seen = outcome!.unexpected
      .map((id) => result?.checks.find((c) => c.id === id))
      .map((c) => c && `${c.id} at ${(c.decidedAtMs / 1000).toFixed(1)} s: ${c.message}`);
    const findings = result?.findings ?? [];
    expect(
      { missed: outcome!.missed, unexpected: outcome!.unexpected, errors: outcome!.errors },
      [...seen, ...findings].join("\n"),
    ).toEqual({ missed: [], unexpected: [], errors: [] });
  });
});
