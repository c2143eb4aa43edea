import { isDeepStrictEqual } from "node:util";
import { z } from "zod";
import { defineCheck, type CheckContext, type Verdict } from "../check.ts";
import { isRecord } from "../cel.ts";
import { evidenceOf, failed, passed, pending } from "../evidence.ts";
import { historyOf, lastEntry } from "../objects.ts";
import type { KubeObject } from "../trace.ts";
import { fieldFindings, FieldFactSchema, type Finding } from "../openapi.ts";

/** "Has at least" this printer column: extra columns (Schedule, Last Backup) are fine. */
const PrinterColumnSchema = z.strictObject({
  /** Column header, e.g. Phase. */
  name: z.string().min(1),
  /** JSONPath of the column, e.g. .status.phase (the leading dot is optional). */
  jsonPath: z.string().min(1),
});

/** Facts about an installed CustomResourceDefinition, read from the recorded trace. */
export const ParamsSchema = z.strictObject({
  /** The CRD's name, e.g. backups.database.example.com. */
  name: z.string().min(1),
  /** spec.group. */
  group: z.string().min(1).optional(),
  /** spec.names.kind. */
  kind: z.string().min(1).optional(),
  /** spec.scope. */
  scope: z.enum(["Namespaced", "Cluster"]).optional(),
  /** The version the facts below are about; the storage version when left out. */
  version: z.string().min(1).optional(),
  /** The version is served. */
  served: z.boolean().optional(),
  /** The version is the storage version. */
  storage: z.boolean().optional(),
  /** The version has (true) or lacks (false) the status subresource. */
  statusSubresource: z.boolean().optional(),
  /** Printer columns the version must have, among any others. */
  printerColumns: z.array(PrinterColumnSchema).optional(),
  /** Facts about fields of the version's openAPIV3Schema. */
  fields: z.array(FieldFactSchema).optional(),
});
export type Params = z.infer<typeof ParamsSchema>;

function field(object: unknown, ...path: string[]): unknown {
  let current = object;
  for (const key of path) current = isRecord(current) ? current[key] : undefined;
  return current;
}

function same(expected: unknown, actual: unknown, label: string): Finding {
  return {
    expected: `${label} ${String(expected)}`,
    ...(isDeepStrictEqual(expected, actual)
      ? {}
      : { actual: `${label} ${actual === undefined ? "(not set)" : String(actual)}` }),
  };
}

const normalPath = (path: string) => (path.startsWith(".") ? path : `.${path}`);

function versionFindings(params: Params, version: Record<string, unknown>): Finding[] {
  const findings: Finding[] = [];
  if (params.served !== undefined)
    findings.push(same(params.served, version.served, `version ${String(version.name)} served:`));
  if (params.storage !== undefined)
    findings.push(same(params.storage, version.storage, `version ${String(version.name)} storage:`));
  if (params.statusSubresource !== undefined) {
    const has = isRecord(field(version, "subresources", "status"));
    const says = (yes: boolean) => (yes ? "has the status subresource" : "has no status subresource");
    findings.push({
      expected: says(params.statusSubresource),
      ...(has === params.statusSubresource ? {} : { actual: says(has) }),
    });
  }
  const columns = (Array.isArray(version.additionalPrinterColumns) ? version.additionalPrinterColumns : []).filter(
    isRecord,
  );
  const listed = columns.map((c) => `${String(c.name)} (${String(c.jsonPath)})`).join(", ") || "none";
  for (const column of params.printerColumns ?? []) {
    // kubectl shows headers in upper case whatever their spelling: "phase" and "Phase" read the same.
    const sameHeader = (name: unknown) => typeof name === "string" && name.toLowerCase() === column.name.toLowerCase();
    const found = columns.some(
      (c) =>
        sameHeader(c.name) && typeof c.jsonPath === "string" && normalPath(c.jsonPath) === normalPath(column.jsonPath),
    );
    const expected = `printer column ${column.name} (${normalPath(column.jsonPath)})`;
    findings.push(found ? { expected } : { expected, actual: `printer columns: ${listed}` });
  }
  findings.push(...fieldFindings(params.fields ?? [], field(version, "schema", "openAPIV3Schema")));
  return findings;
}

function findingsFor(params: Params, crd: KubeObject): Finding[] {
  const findings: Finding[] = [];
  if (params.group !== undefined) findings.push(same(params.group, field(crd, "spec", "group"), "group"));
  if (params.kind !== undefined) findings.push(same(params.kind, field(crd, "spec", "names", "kind"), "kind"));
  if (params.scope !== undefined) findings.push(same(params.scope, field(crd, "spec", "scope"), "scope"));
  const versions = field(crd, "spec", "versions");
  const list = (Array.isArray(versions) ? versions : []).filter(isRecord);
  const version = params.version
    ? list.find((v) => v.name === params.version)
    : (list.find((v) => v.storage === true) ?? list[0]);
  if (!version) {
    const names = list.map((v) => String(v.name)).join(", ") || "none";
    return [...findings, { expected: `version ${params.version ?? "(storage)"}`, actual: `versions: ${names}` }];
  }
  return [...findings, ...versionFindings(params, version)];
}

export function evaluate(params: Params, ctx: CheckContext): Verdict {
  const history = historyOf(ctx.trace, { kind: "CustomResourceDefinition", name: params.name }, ctx.namespace);
  const last = lastEntry(history);
  const crd = last && last.type !== "DELETED" ? last.object : undefined;
  const findings = crd ? findingsFor(params, crd) : [];
  const wrong = findings.filter((f) => f.actual !== undefined);
  if (crd && wrong.length === 0) {
    const facts = findings.length > 0 ? `: ${findings.map((f) => f.expected).join("; ")}` : "";
    return passed(
      `CRD ${params.name} is installed${facts}`,
      Math.max(last?.at ?? 0, ctx.since),
      evidenceOf([crd], history),
    );
  }
  if (!ctx.final) return pending();
  if (!crd) {
    return failed({
      message: `CRD ${params.name} is not installed`,
      expected: `CustomResourceDefinition ${params.name} installed`,
      actual: last ? "it was deleted" : "no such CustomResourceDefinition was installed",
      decidedAt: ctx.now,
      evidence: evidenceOf([], history),
    });
  }
  return failed({
    message: `CRD ${params.name} does not look as the lab asks`,
    expected: wrong.map((f) => f.expected).join("; "),
    actual: wrong.map((f) => f.actual).join("; "),
    decidedAt: ctx.now,
    evidence: evidenceOf([crd], history),
  });
}

export const crdCheck = defineCheck({
  type: "crd",
  ParamsSchema,
  clusterLevel: true,
  objects: (p) => [{ kind: "CustomResourceDefinition", name: p.name }],
  evaluate,
});
