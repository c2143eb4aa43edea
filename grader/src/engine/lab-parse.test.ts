import { describe, expect, it } from "vitest";
import { parseLab, type LabSource } from "./lab-parse.ts";
import { formatProblem } from "./yaml-location.ts";

const LAB = `id: tiny
title: Tiny lab
resources:
  - alias: database
    apiVersion: database.example.com/v1
    kind: Database
    plural: databases
    namespaced: true
    references:
      - { field: spec.backupRef.name, kind: Backup }
  - alias: backup
    apiVersion: database.example.com/v1
    kind: Backup
    plural: backups
    namespaced: true
    references:
      - { field: spec.databaseRef.name, kind: Database }
tasks:
  - { id: "1.4", title: Backup controller }
checks:
  - id: backup-pending
    task: "1.4"
    type: expect
    title: Backup goes Pending
    points: 1
    severity: required
    timeout: 30s
    hint: Set phase Pending.
    params:
      object: { kind: Backup, name: "{{backup}}" }
      expr: self.?status.?phase.orValue("") == "Pending"
scenarios:
  - id: waits
    title: Waits
    vars: { backup: "{{attempt}}-backup", db: "{{attempt}}-db" }
    steps:
      - apply: backup.yaml
      - checks: [backup-pending]
`;

const BACKUP = `apiVersion: database.example.com/v1
kind: Backup
metadata:
  name: "{{backup}}"
spec:
  databaseRef:
    name: "{{db}}"
`;

const SELF_BACKED_DATABASE = `apiVersion: database.example.com/v1
kind: Database
metadata:
  name: "{{db}}"
spec:
  backupRef:
    name: "{{backup}}"
`;

function source(lab: string, fixtures: Record<string, string> = { "backup.yaml": BACKUP }): LabSource {
  return {
    lab: { file: "labs/tiny/lab.yaml", text: lab },
    fixtures: Object.entries(fixtures).map(([name, text]) => ({ file: `labs/tiny/fixtures/${name}`, text })),
  };
}

function problemsOf(input: LabSource): string[] {
  return parseLab(input).problems.map(formatProblem);
}

describe("parseLab", () => {
  it("loads a valid lab with its fixtures", () => {
    const { lab, problems } = parseLab(source(LAB));
    expect(problems).toEqual([]);
    expect(lab?.checks[0]?.id).toBe("backup-pending");
    expect(Object.keys(lab?.fixtures ?? {})).toEqual(["backup.yaml"]);
  });

  it.each([
    {
      name: "a YAML syntax error",
      lab: LAB.replace("title: Tiny lab", "title: [Tiny"),
      problem: /^labs\/tiny\/lab\.yaml:\d+: /,
    },
    {
      name: "a missing field",
      lab: LAB.replace("    hint: Set phase Pending.\n", ""),
      problem: /lab\.yaml:21: checks\.0\.hint: Invalid input/,
    },
    {
      name: "an unknown check type",
      lab: LAB.replace("type: expect", "type: eventually"),
      problem: /lab\.yaml:23: checks\.0\.type: Invalid discriminator/,
    },
    {
      name: "a bad duration",
      lab: LAB.replace("timeout: 30s", "timeout: soon"),
      problem: /lab\.yaml:27: checks\.0\.timeout: a duration like "30s"/,
    },
    {
      name: "a broken CEL expression",
      lab: LAB.replace('== "Pending"', '=== "Pending"'),
      problem: /lab\.yaml:31: checks\.0\.params\.expr: invalid CEL expression/,
    },
    {
      name: "a step of no known shape",
      lab: LAB.replace("- checks: [backup-pending]", "- check: [backup-pending]"),
      problem: /lab\.yaml:38: scenarios\.0\.steps\.1: expected one of/,
    },
    {
      name: "a patch without a name",
      lab: LAB.replace("- checks: [backup-pending]", "- patch: { kind: Backup, mergePatch: {} }"),
      problem: /lab\.yaml:38: scenarios\.0\.steps\.1\.patch\.name/,
    },
  ])("reports $name with file and line", ({ lab, problem }) => {
    const problems = problemsOf(source(lab));
    expect(problems.length).toBeGreaterThan(0);
    expect(problems.join("\n")).toMatch(problem);
  });

  it.each([
    {
      name: "a check of an unknown task",
      lab: LAB.replace('task: "1.4"', 'task: "9.9"'),
      problem: /lab\.yaml:22: check backup-pending names task "9\.9"/,
    },
    {
      name: "a step naming a missing check",
      lab: LAB.replace("- checks: [backup-pending]", "- checks: [backup-pending, nope]"),
      problem: /lab\.yaml:38: check nope does not exist/,
    },
    {
      name: "a step naming a missing fixture",
      lab: LAB.replace("apply: backup.yaml", "apply: gone.yaml"),
      problem: /lab\.yaml:37: fixture gone\.yaml does not exist/,
    },
    {
      name: "a required check no scenario starts",
      lab: LAB.replace("- checks: [backup-pending]", "- apply: backup.yaml"),
      problem: /lab\.yaml:21: required check backup-pending is not started by any scenario/,
    },
    {
      name: "a check reading an undeclared kind",
      lab: LAB.replace("kind: Backup, name", "kind: Restore, name"),
      problem: /lab\.yaml:29: .*reads a Restore/,
    },
    {
      name: "an unknown template variable",
      lab: LAB.replace('name: "{{backup}}" }', 'name: "{{bakup}}" }'),
      problem: /lab\.yaml:30: template: "bakup" not defined/,
    },
    {
      name: "a reserved variable name",
      lab: LAB.replace("vars: { backup:", "vars: { namespace: x, backup:"),
      problem: /lab\.yaml:35: "namespace" is provided by the grader/,
    },
    {
      name: "a requirement that does not exist",
      lab: LAB.replace("    hint: Set phase Pending.\n", "    hint: Set phase Pending.\n    requires: [backup-done]\n"),
      problem: /lab\.yaml:29: check backup-pending requires backup-done, which does not exist/,
    },
    {
      name: "a check that requires itself",
      lab: LAB.replace(
        "    hint: Set phase Pending.\n",
        "    hint: Set phase Pending.\n    requires: [backup-pending]\n",
      ),
      problem: /lab\.yaml:29: check backup-pending requires backup-pending, which requires it back/,
    },
    {
      name: "a dependency of an undeclared kind",
      lab: LAB.replace(
        "    hint: Set phase Pending.\n",
        '    hint: Set phase Pending.\n    waitsFor:\n      - { object: { kind: Restore, name: x }, expr: "true", state: done, task: "1.4" }\n',
      ),
      problem: /lab\.yaml:30: check backup-pending waits for a Restore, which resources does not declare/,
    },
    {
      name: "a task without checks",
      lab: LAB.replace(
        '  - { id: "1.4", title: Backup controller }',
        '  - { id: "1.4", title: Backup controller }\n  - { id: "1.5", title: Build }',
      ),
      problem: /lab\.yaml:20: task 1\.5 has no checks/,
    },
    {
      name: "a precondition worth points",
      lab: LAB.replace("    hint: Set phase Pending.\n", "    hint: Set phase Pending.\n    precondition: true\n"),
      problem:
        /lab\.yaml:29: precondition backup-pending is the grader's own setup: it must be advisory and worth 0 points/,
    },
    {
      name: "a precondition started by a watch step",
      lab: LAB.replace("severity: required", "severity: advisory")
        .replace("points: 1", "points: 0")
        .replace("    hint: Set phase Pending.\n", "    hint: Set phase Pending.\n    precondition: true\n")
        .replace("- checks: [backup-pending]", "- watch: [backup-pending]"),
      problem: /lab\.yaml:39: precondition backup-pending must be started by a checks: step/,
    },
  ])("lints $name with file and line", ({ lab, problem }) => {
    expect(problemsOf(source(lab)).join("\n")).toMatch(problem);
  });

  it("reports template errors inside a fixture at the fixture's line", () => {
    const problems = problemsOf(source(LAB, { "backup.yaml": BACKUP.replace("{{db}}", "{{database}}") }));
    expect(problems).toEqual([
      expect.stringMatching(/^labs\/tiny\/fixtures\/backup\.yaml:7: template: "database" not defined/),
    ]);
  });

  it("reports a fixture kind the lab does not declare", () => {
    const problems = problemsOf(source(LAB, { "backup.yaml": BACKUP.replace("kind: Backup", "kind: Restore") }));
    expect(problems).toEqual(["labs/tiny/fixtures/backup.yaml:2: kind Restore is not declared in the lab's resources"]);
  });

  it("reports a fixture no scenario applies", () => {
    const problems = problemsOf(source(LAB, { "backup.yaml": BACKUP, "spare.yaml": BACKUP }));
    expect(problems).toEqual(["labs/tiny/fixtures/spare.yaml:1: fixture spare.yaml is not applied by any scenario"]);
  });

  it("rejects a Database whose backupRef names a Backup of that same Database", () => {
    const lab = LAB.replace(
      "      - apply: backup.yaml\n",
      "      - apply: backup.yaml\n      - apply: database.yaml\n",
    );
    const problems = problemsOf(source(lab, { "backup.yaml": BACKUP, "database.yaml": SELF_BACKED_DATABASE }));
    expect(problems).toEqual([
      expect.stringMatching(
        /fixtures\/(backup|database)\.yaml:\d+: in scenario waits, references form a cycle: .*each would wait for the other forever/,
      ),
    ]);
    expect(problems[0]).toMatch(/Backup\/0-backup/);
    expect(problems[0]).toMatch(/Database\/0-db/);
  });

  it("accepts a chain of references that ends", () => {
    const chained = SELF_BACKED_DATABASE.replace('name: "{{db}}"', 'name: "{{db}}-copy"');
    const lab = LAB.replace(
      "      - apply: backup.yaml\n",
      "      - apply: backup.yaml\n      - apply: database.yaml\n",
    );
    expect(problemsOf(source(lab, { "backup.yaml": BACKUP, "database.yaml": chained }))).toEqual([]);
  });
});
