import { describe, expect, it } from "vitest";
import { parseLab } from "./lab-parse.ts";
import { clusterChecks, renderScenario, renderString, scenarioVars, TemplateError } from "./render.ts";

const LAB = `id: tiny
title: Tiny lab
resources:
  - { alias: backup, apiVersion: database.example.com/v1, kind: Backup, plural: backups, namespaced: true }
  - { alias: crd, apiVersion: apiextensions.k8s.io/v1, kind: CustomResourceDefinition, plural: customresourcedefinitions, namespaced: false }
tasks:
  - { id: "1.3", title: CRD }
  - { id: "1.4", title: Controller }
checks:
  - id: crd-installed
    task: "1.3"
    type: crd
    title: CRD installed
    points: 1
    severity: required
    timeout: 30s
    hint: make install
    params: { name: backups.database.example.com }
  - id: backup-located
    task: "1.4"
    type: expect
    title: Location
    points: 1
    severity: required
    timeout: 2m
    hint: Set the location.
    params:
      object: { kind: Backup, name: "{{backup}}" }
      expr: 'self.?status.?backupLocation.orValue("").matches(r"^s3://backups/{{namespace}}/{{db}}-\\d{8}\\.sql$")'
scenarios:
  - id: waits
    title: Waits
    vars: { db: "{{attempt}}-db", backup: "{{db}}-backup" }
    steps:
      - apply: backup.yaml
      - patch: { kind: Backup, name: "{{backup}}", subresource: status, mergePatch: { status: { phase: Completed, note: "{{attempt}}" } } }
      - watch: [backup-located]
      - delete: { kind: Backup, name: "{{backup}}" }
`;
const BACKUP = `apiVersion: database.example.com/v1
kind: Backup
metadata:
  name: "{{backup}}"
  labels: { team: a }
spec:
  databaseRef: { name: "{{db}}" }
`;

const { lab, problems } = parseLab({
  lab: { file: "lab.yaml", text: LAB },
  fixtures: [{ file: "fixtures/backup.yaml", text: BACKUP }],
});
const attempt = { namespace: "lab-42-waits", attempt: "42" };

describe("render", () => {
  it("loads the lab under test", () => expect(problems).toEqual([]));

  it("renders scenario vars from namespace, attempt and earlier vars", () => {
    expect(scenarioVars(lab?.scenarios[0], attempt)).toEqual({
      namespace: "lab-42-waits",
      attempt: "42",
      db: "42-db",
      backup: "42-db-backup",
    });
  });

  it("renders each step for the attempt", () => {
    if (!lab) throw new Error("no lab");
    const [apply, patch, watch, remove] = renderScenario(lab, "waits", attempt).steps;
    expect(apply).toEqual({
      action: "apply",
      fixture: "backup.yaml",
      objects: [
        {
          apiVersion: "database.example.com/v1",
          kind: "Backup",
          metadata: {
            name: "42-db-backup",
            namespace: "lab-42-waits",
            labels: { team: "a", "app.kubernetes.io/managed-by": "labgrader", "labgrader.io/attempt": "42" },
          },
          spec: { databaseRef: { name: "42-db" } },
        },
      ],
    });
    expect(patch).toMatchObject({
      action: "patch",
      resource: { plural: "backups" },
      name: "42-db-backup",
      namespace: "lab-42-waits",
      subresource: "status",
      mergePatch: { status: { phase: "Completed", note: "42" } },
    });
    expect(watch).toMatchObject({
      action: "watch",
      checks: [{ id: "backup-located", timeoutMs: 120_000, clusterLevel: false }],
    });
    const params = watch?.action === "watch" ? (watch.checks[0]?.params as { expr: string }) : undefined;
    expect(params?.expr).toContain(String.raw`r"^s3://backups/lab-42-waits/42-db-\d{8}\.sql$"`);
    expect(remove).toMatchObject({ action: "delete", name: "42-db-backup", namespace: "lab-42-waits" });
  });

  it("lists cluster-level checks no scenario starts", () => {
    if (!lab) throw new Error("no lab");
    expect(clusterChecks(lab, attempt).map((c) => c.id)).toEqual(["crd-installed"]);
  });

  it("names an unknown scenario and the known ones", () => {
    if (!lab) throw new Error("no lab");
    expect(() => renderScenario(lab, "nope", attempt)).toThrow(/no scenario nope; known: waits/);
  });

  it.each<{ template: string; vars: Record<string, string>; out: string }>([
    { template: "plain", vars: {}, out: "plain" },
    { template: "{{a}}<&>", vars: { a: 'x"y' }, out: 'x"y<&>' },
    { template: String.raw`^\d{8}-{{a}}$`, vars: { a: "b" }, out: String.raw`^\d{8}-b$` },
  ])("renders $template without escaping", ({ template, vars, out }) => {
    expect(renderString(template, vars)).toBe(out);
  });

  it("fails on an unknown variable, with the template's line", () => {
    const error = (() => {
      try {
        renderString("a\nb {{missing}}", {});
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(TemplateError);
    expect((error as TemplateError).line).toBe(2);
    expect((error as TemplateError).message).toMatch(/"missing" not defined/);
  });
});
