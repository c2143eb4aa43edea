import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "junit2json";
import { describe, expect, it } from "vitest";
import { GradeResultSchema } from "../grader/src/contracts.ts";
import { listLabs } from "../grader/src/labs/load.ts";
import { labgrader } from "./support/cli.ts";
import { tempDir } from "./support/env.ts";

describe("labgrader grade", () => {
  it("gives the reference operator full marks and writes JSON and JUnit reports", async () => {
    const dir = tempDir("grade");
    const json = join(dir, "grade.json");
    const junit = join(dir, "grade.junit.xml");
    // A temp folder of its own: the grade's work folder (project copy, manager, log) must be gone after it.
    const scratch = tempDir("grade-scratch");
    const run = await labgrader(
      [
        "grade",
        "--lab",
        "composing-operators",
        "--operator",
        "reference",
        "--manager-arg=--phase-delay=1s",
        "--json",
        json,
        "--junit",
        junit,
      ],
      undefined,
      { ...process.env, TMPDIR: scratch },
    );
    expect(run.stderr).not.toMatch(/labgrader: /);
    expect(run.code).toBe(0);
    expect(readdirSync(scratch)).toEqual([]);

    const result = GradeResultSchema.parse(JSON.parse(readFileSync(json, "utf8")));
    expect(result.status).toBe("graded");
    expect(result.score).toBe(result.maxScore);
    expect(result.maxScore).toBeGreaterThan(0);
    expect(result.checks.filter((c) => c.status !== "passed")).toEqual([]);
    for (const check of result.checks)
      expect(check).toMatchObject({
        id: expect.any(String),
        task: expect.any(String),
        required: expect.any(Boolean),
        points: expect.any(Number),
        hint: expect.any(String),
      });

    const report = await parse(readFileSync(junit, "utf8"));
    const suites = (report as { testsuite?: { testcase?: { name: string }[] }[] }).testsuite ?? [];
    const cases = suites.flatMap((s) => s.testcase ?? []);
    expect(cases.map((c) => c.name.replace(" (advisory)", "")).sort()).toEqual(result.checks.map((c) => c.id).sort());
  });

  it("refuses an unknown lab with the list of known ones", async () => {
    const run = await labgrader(["grade", "--lab", "no-such-lab", "--operator", "reference"]);
    expect(run.code).toBe(1);
    // Every lab of the repository, as `labgrader lint` finds them.
    expect(run.stderr).toContain(`unknown lab "no-such-lab"; known labs: ${(await listLabs()).join(", ")}`);
  });

  it("refuses a validate concurrency or retry count that is not a whole number, before grading anything", async () => {
    for (const [flag, value, wants] of [
      ["--concurrency", "0", "--concurrency wants a whole number of at least 1, not 0"],
      ["--concurrency", "many", "--concurrency wants a whole number of at least 1, not many"],
      ["--retries", "1.5", "--retries wants a whole number, not 1.5"],
    ]) {
      const run = await labgrader(["validate", "--lab", "watching-and-indexing", flag!, value!]);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(wants);
      expect(run.stdout).not.toMatch(/^ok /m);
    }
  });

  it("grades an operator that does not compile as a learner's failure with the compiler's output", async () => {
    const project = tempDir("broken-project");
    const { cpSync, writeFileSync } = await import("node:fs");
    cpSync(join(import.meta.dirname, "..", "operator"), project, {
      recursive: true,
      filter: (src) => !src.includes("/bin"),
    });
    writeFileSync(
      join(project, "internal/controller/broken.go"),
      'package controller\n\nfunc broken() int { return "not a number" }\n',
    );
    const json = join(project, "grade.json");
    const run = await labgrader(["grade", "--lab", "composing-operators", "--operator", project, "--json", json]);
    expect(run.code).toBe(1);
    const result = GradeResultSchema.parse(JSON.parse(readFileSync(json, "utf8")));
    expect(result.status).toBe("graded");
    expect(result.score).toBe(0);
    expect(result.findings.join("\n")).toMatch(/did not build[\s\S]*broken\.go/);
  });

  it("grades a project without generated CRDs as a learner's failure that says so", async () => {
    const project = tempDir("no-crds");
    const { cpSync, rmSync } = await import("node:fs");
    cpSync(join(import.meta.dirname, "..", "operator"), project, {
      recursive: true,
      filter: (src) => !src.includes("/bin"),
    });
    rmSync(join(project, "config/crd/bases"), { recursive: true });
    const json = join(project, "grade.json");
    const run = await labgrader(["grade", "--lab", "composing-operators", "--operator", project, "--json", json]);
    expect(run.code).toBe(1);
    const result = GradeResultSchema.parse(JSON.parse(readFileSync(json, "utf8")));
    expect(result.status).toBe("graded");
    expect(result.score).toBe(0);
    expect(result.checks.every((c) => c.status === "failed")).toBe(true);
    expect(result.findings.join("\n")).toContain("config/crd/bases holds no CRD manifests (run `make manifests`)");
  });
});
