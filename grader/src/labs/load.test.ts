import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatProblem } from "../engine/yaml-location.ts";
import { renderScenario } from "../engine/render.ts";
import { LabProblemsError, LABS_DIR, lintLabs, listLabs, loadLab } from "./load.ts";

const GOOD = `id: good
title: Good
resources:
  - { alias: backup, apiVersion: database.example.com/v1, kind: Backup, plural: backups, namespaced: true }
tasks:
  - { id: "1.4", title: Controller }
checks:
  - id: backup-pending
    task: "1.4"
    type: expect
    title: Pending
    points: 1
    severity: required
    timeout: 30s
    hint: Set Pending.
    params:
      object: { kind: Backup, name: "{{backup}}" }
      expr: self.?status.?phase.orValue("") == "Pending"
scenarios:
  - id: waits
    title: Waits
    vars: { backup: "{{attempt}}-backup" }
    steps:
      - apply: backup.yaml
      - checks: [backup-pending]
`;
const FIXTURE = `apiVersion: database.example.com/v1
kind: Backup
metadata: { name: "{{backup}}" }
spec: { databaseRef: { name: db } }
`;

let dir = "";

async function writeLab(id: string, lab: string, fixtures: Record<string, string>): Promise<void> {
  await mkdir(join(dir, id, "fixtures"), { recursive: true });
  await writeFile(join(dir, id, "lab.yaml"), lab);
  for (const [name, text] of Object.entries(fixtures)) await writeFile(join(dir, id, "fixtures", name), text);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "labgrader-labs-"));
  await writeLab("good", GOOD, { "backup.yaml": FIXTURE });
  await writeLab("broken", GOOD.replace("id: good", "id: broken").replace("timeout: 30s", "timeout: later"), {
    "backup.yaml": FIXTURE.replace("{{backup}}", "{{nope}}"),
  });
  await mkdir(join(dir, "not-a-lab"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("lab loader", () => {
  it("lists the folders holding a lab.yaml", async () => {
    expect(await listLabs(dir)).toEqual(["broken", "good"]);
  });

  it("loads a lab and renders its fixtures per attempt", async () => {
    const lab = await loadLab("good", dir);
    const [apply] = renderScenario(lab, "waits", { namespace: "lab-7-waits", attempt: "7" }).steps;
    expect(apply).toMatchObject({
      action: "apply",
      objects: [{ metadata: { name: "7-backup", namespace: "lab-7-waits" } }],
    });
  });

  it("names the known labs for an unknown id", async () => {
    await expect(loadLab("missing", dir)).rejects.toThrow('unknown lab "missing"; known labs: broken, good');
  });

  it("throws every problem of a broken lab, with file and line", async () => {
    const error = await loadLab("broken", dir).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(LabProblemsError);
    expect((error as LabProblemsError).problems.map(formatProblem)).toEqual([
      `${join(dir, "broken", "lab.yaml")}:14: checks.0.timeout: a duration like "30s", "2m" or "500ms"`,
    ]);
  });

  it("lints every lab in a folder", async () => {
    const problems = (await lintLabs(dir)).map(formatProblem);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/broken\/lab\.yaml:14: /);
  });

  it("lints the repository's labs clean", async () => {
    expect((await lintLabs(LABS_DIR)).map(formatProblem)).toEqual([]);
  });
});
