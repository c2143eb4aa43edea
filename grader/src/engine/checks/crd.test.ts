import { describe, expect, it } from "vitest";
import type { KubeObject } from "../trace.ts";
import { createTraceBuilder } from "../trace-builder.ts";
import { ParamsSchema, evaluate, type Params } from "./crd.ts";

interface Shape {
  statusSubresource?: boolean;
  columns?: { name: string; jsonPath: string }[];
  required?: string[];
  retention?: Record<string, unknown>;
  phaseEnum?: string[];
}

/** A backups CRD as controller-gen v0.18 writes it for the course's Backup type. */
function backupCrd(shape: Shape = {}): KubeObject {
  const columns = shape.columns ?? [
    { name: "Phase", jsonPath: ".status.phase" },
    { name: "Database", jsonPath: ".spec.databaseRef.name" },
    { name: "Schedule", jsonPath: ".spec.schedule" },
    { name: "Age", jsonPath: ".metadata.creationTimestamp" },
  ];
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: "backups.database.example.com" },
    spec: {
      group: "database.example.com",
      names: { kind: "Backup", plural: "backups", singular: "backup", listKind: "BackupList" },
      scope: "Namespaced",
      versions: [
        {
          name: "v1",
          served: true,
          storage: true,
          additionalPrinterColumns: columns.map((c) => ({ ...c, type: "string" })),
          ...(shape.statusSubresource === false ? {} : { subresources: { status: {} } }),
          schema: {
            openAPIV3Schema: {
              type: "object",
              properties: {
                spec: {
                  type: "object",
                  required: shape.required ?? ["databaseRef"],
                  properties: {
                    databaseRef: { type: "object", properties: { name: { type: "string", default: "" } } },
                    retention: shape.retention ?? { type: "integer", minimum: 1, default: 5 },
                    schedule: { type: "string" },
                  },
                },
                status: {
                  type: "object",
                  properties: {
                    phase: {
                      type: "string",
                      ...(shape.phaseEnum?.length === 0
                        ? {}
                        : { enum: shape.phaseEnum ?? ["Pending", "InProgress", "Completed", "Failed"] }),
                    },
                    conditions: { type: "array", items: { type: "object", properties: { type: { type: "string" } } } },
                  },
                },
              },
            },
          },
        },
      ],
    },
  };
}

const params = (extra: Partial<Params>): Params =>
  ParamsSchema.parse({ name: "backups.database.example.com", ...extra });
const lab = {
  installed: params({
    group: "database.example.com",
    kind: "Backup",
    scope: "Namespaced",
    version: "v1",
    served: true,
    storage: true,
  }),
  status: params({ statusSubresource: true }),
  columns: params({
    printerColumns: [
      { name: "Phase", jsonPath: ".status.phase" },
      { name: "Database", jsonPath: "spec.databaseRef.name" },
      { name: "Age", jsonPath: ".metadata.creationTimestamp" },
    ],
  }),
  schema: params({
    fields: [
      { path: "spec.databaseRef", required: true, type: "object" },
      { path: "spec.retention", type: "integer", minimum: 1, default: 5 },
      { path: "status.phase", enum: ["Pending", "InProgress", "Completed", "Failed"] },
      { path: "status.conditions[].type", type: "string" },
    ],
  }),
};

interface Case {
  name: string;
  params: Params;
  crd?: KubeObject;
  final?: boolean;
  status: "pending" | "passed" | "failed";
  expected?: RegExp;
  actual?: RegExp;
}

const cases: Case[] = [
  { name: "passes on the course's CRD", params: lab.installed, crd: backupCrd(), status: "passed" },
  { name: "passes the status subresource", params: lab.status, crd: backupCrd(), status: "passed" },
  { name: "passes printer columns with extras", params: lab.columns, crd: backupCrd(), status: "passed" },
  {
    name: "passes printer columns whatever the case of their headers (kubectl shows them in upper case)",
    params: lab.columns,
    crd: backupCrd({
      columns: [
        { name: "PHASE", jsonPath: ".status.phase" },
        { name: "database", jsonPath: ".spec.databaseRef.name" },
        { name: "age", jsonPath: ".metadata.creationTimestamp" },
      ],
    }),
    status: "passed",
  },
  { name: "passes the schema facts", params: lab.schema, crd: backupCrd(), status: "passed" },
  { name: "stays pending before the CRD is installed", params: lab.installed, status: "pending" },
  {
    name: "fails when it never was",
    params: lab.installed,
    final: true,
    status: "failed",
    actual: /no such CustomResourceDefinition/,
  },
  {
    name: "fails on a missing status subresource",
    params: lab.status,
    crd: backupCrd({ statusSubresource: false }),
    final: true,
    status: "failed",
    expected: /^has the status subresource$/,
    actual: /^has no status subresource$/,
  },
  {
    name: "fails on a missing printer column, listing those present",
    params: lab.columns,
    crd: backupCrd({ columns: [{ name: "Phase", jsonPath: ".status.phase" }] }),
    final: true,
    status: "failed",
    expected: /printer column Database \(\.spec\.databaseRef\.name\); printer column Age/,
    actual: /printer columns: Phase \(\.status\.phase\)/,
  },
  {
    name: "fails on an optional databaseRef and a retention without minimum or default",
    params: lab.schema,
    crd: backupCrd({ required: [], retention: { type: "integer" } }),
    final: true,
    status: "failed",
    actual: /spec\.databaseRef is optional; spec\.retention has no minimum; spec\.retention has no default/,
  },
  {
    name: "fails on a different phase enum",
    params: lab.schema,
    crd: backupCrd({ phaseEnum: ["Pending", "Done"] }),
    final: true,
    status: "failed",
    expected: /status\.phase allows exactly Pending, InProgress, Completed, Failed/,
    actual: /status\.phase allows Pending, Done/,
  },
  {
    name: "passes an enum that allows the listed values among others",
    params: params({ fields: [{ path: "status.phase", enumIncludes: ["Pending", "Completed"] }] }),
    crd: backupCrd(),
    status: "passed",
  },
  {
    name: "fails an enum that lacks one of the listed values, naming it",
    params: params({ fields: [{ path: "status.phase", enumIncludes: ["Pending", "Ready"] }] }),
    crd: backupCrd(),
    final: true,
    status: "failed",
    expected: /status\.phase is an enum allowing at least Pending, Ready/,
    actual: /status\.phase allows Pending, InProgress, Completed, Failed \(not Ready\)/,
  },
  {
    name: "fails a free string where an enum including values is asked for",
    params: params({ fields: [{ path: "status.phase", enumIncludes: ["Pending"] }] }),
    crd: backupCrd({ phaseEnum: [] }),
    final: true,
    status: "failed",
    actual: /status\.phase allows any value/,
  },
  {
    name: "passes an enum that admits the listed values",
    params: params({ fields: [{ path: "status.phase", admits: ["InProgress", "Completed"] }] }),
    crd: backupCrd(),
    status: "passed",
  },
  {
    name: "passes a free string where values must be admitted (nothing refuses them)",
    params: params({ fields: [{ path: "status.phase", admits: ["InProgress"] }] }),
    crd: backupCrd({ phaseEnum: [] }),
    status: "passed",
  },
  {
    name: "fails an enum that refuses one of the values to admit, naming it",
    params: params({ fields: [{ path: "status.phase", admits: ["Pending", "Verifying"] }] }),
    crd: backupCrd(),
    final: true,
    status: "failed",
    expected: /status\.phase admits Pending, Verifying/,
    actual: /status\.phase is an enum of Pending, InProgress, Completed, Failed: it refuses Verifying/,
  },
  {
    name: "fails values to admit on a field that is not declared",
    params: params({ fields: [{ path: "status.stage", admits: ["Pending"] }] }),
    crd: backupCrd(),
    final: true,
    status: "failed",
    actual: /status\.stage is missing/,
  },
  {
    name: "stays pending while the CRD is wrong but the window is open",
    params: lab.status,
    crd: backupCrd({ statusSubresource: false }),
    status: "pending",
  },
];

describe("crd check", () => {
  it.each(cases)("$name", ({ params, crd, final, status, expected, actual }) => {
    const t = createTraceBuilder();
    if (crd) t.at(3).add(crd);
    const verdict = evaluate(params, t.context({ final: final ?? false, now: 10_000 }));
    expect(verdict.status).toBe(status);
    if (verdict.status !== "failed") return;
    if (expected) expect(verdict.expected).toMatch(expected);
    if (actual) expect(verdict.actual).toMatch(actual);
  });

  it("reads the latest version of the CRD", () => {
    const t = createTraceBuilder()
      .at(1)
      .add(backupCrd({ statusSubresource: false }))
      .at(2)
      .modify(backupCrd());
    expect(evaluate(lab.status, t.context()).status).toBe("passed");
  });

  it("rejects a malformed field path", () => {
    expect(ParamsSchema.safeParse({ name: "x", fields: [{ path: "spec..retention" }] }).success).toBe(false);
  });
});
