import { isDeepStrictEqual } from "node:util";
import { z } from "zod";
import { isRecord } from "./cel.ts";

/** What an OpenAPI v3 schema (a CRD version's openAPIV3Schema) says about one field. */
export const FieldFactSchema = z.strictObject({
  /** Dotted path from the root, `[]` for list items: spec.retention, status.conditions[].type. */
  path: z
    .string()
    .regex(/^[A-Za-z0-9_-]+(\[\])?(\.[A-Za-z0-9_-]+(\[\])?)*$/, "a dotted field path like spec.retention"),
  /** The field is declared (true) or not (false). */
  present: z.boolean().optional(),
  /** The field is listed in its parent's `required` (true) or not (false). */
  required: z.boolean().optional(),
  /** The field's OpenAPI type. */
  type: z.enum(["string", "integer", "number", "boolean", "object", "array"]).optional(),
  /** The field's default value. */
  default: z.unknown().optional(),
  /** The field's minimum. */
  minimum: z.number().optional(),
  /** The field's maximum. */
  maximum: z.number().optional(),
  /** The field allows exactly these values (order does not matter). */
  enum: z
    .array(z.union([z.string(), z.number()]))
    .min(1)
    .optional(),
  /** The field is an enum that allows at least these values (others may be allowed too). */
  enumIncludes: z
    .array(z.union([z.string(), z.number()]))
    .min(1)
    .optional(),
  /** The field's enum does not refuse these values: it lists each of them, or the field has no enum at all. */
  admits: z
    .array(z.union([z.string(), z.number()]))
    .min(1)
    .optional(),
});
export type FieldFact = z.infer<typeof FieldFactSchema>;

/** One fact: what was expected and, when it does not hold, what was found instead. */
export interface Finding {
  expected: string;
  actual?: string;
}

interface Located {
  node?: Record<string, unknown>;
  /** The object schema that declares the field (for `required`). */
  parent?: Record<string, unknown>;
  name: string;
}

function locate(root: unknown, path: string): Located {
  let node = isRecord(root) ? root : undefined;
  let parent: Record<string, unknown> | undefined;
  let name = "";
  for (const segment of path.split(".")) {
    const isList = segment.endsWith("[]");
    name = isList ? segment.slice(0, -2) : segment;
    parent = node;
    const properties = node?.properties;
    const declared = isRecord(properties) ? properties[name] : undefined;
    node = isRecord(declared) ? declared : undefined;
    const items = node?.items;
    if (isList) node = isRecord(items) ? items : undefined;
    if (!node) return { parent, name };
  }
  return { node, parent, name };
}

const show = (value: unknown) => JSON.stringify(value);

function compare(label: string, expected: unknown, actual: unknown, none: string): Finding {
  const finding: Finding = { expected: `${label} ${show(expected)}` };
  if (isDeepStrictEqual(expected, actual)) return finding;
  return { ...finding, actual: actual === undefined ? none : `${label} ${show(actual)}` };
}

function sameSet(expected: (string | number)[], actual: unknown): boolean {
  if (!Array.isArray(actual) || actual.length !== expected.length) return false;
  return expected.every((value) => actual.includes(value));
}

function includesFinding(at: string, wanted: (string | number)[], node: Record<string, unknown> | undefined): Finding {
  const expected = `${at} is an enum allowing at least ${wanted.join(", ")}`;
  if (!node) return { expected, actual: `${at} is missing` };
  const actual = node.enum;
  if (!Array.isArray(actual)) return { expected, actual: `${at} allows any value` };
  const lacking = wanted.filter((value) => !actual.includes(value));
  if (lacking.length === 0) return { expected };
  return { expected, actual: `${at} allows ${actual.map(String).join(", ")} (not ${lacking.join(", ")})` };
}

function admitsFinding(at: string, wanted: (string | number)[], node: Record<string, unknown> | undefined): Finding {
  const expected = `${at} admits ${wanted.join(", ")}`;
  if (!node) return { expected, actual: `${at} is missing` };
  const actual = node.enum;
  if (!Array.isArray(actual)) return { expected };
  const refused = wanted.filter((value) => !actual.includes(value));
  if (refused.length === 0) return { expected };
  return { expected, actual: `${at} is an enum of ${actual.map(String).join(", ")}: it refuses ${refused.join(", ")}` };
}

function factFindings(fact: FieldFact, found: Located): Finding[] {
  const at = fact.path;
  const { node, parent } = found;
  const findings: Finding[] = [];
  if (fact.present !== undefined) {
    const expected = fact.present ? `${at} is in the schema` : `${at} is not in the schema`;
    findings.push(
      Boolean(node) === fact.present
        ? { expected }
        : { expected, actual: fact.present ? `${at} is missing` : `${at} is declared` },
    );
  }
  if (fact.required !== undefined) {
    const listed = Array.isArray(parent?.required) && parent.required.includes(found.name);
    const says = (yes: boolean) => `${at} is ${yes ? "required" : "optional"}`;
    findings.push(
      listed === fact.required
        ? { expected: says(fact.required) }
        : { expected: says(fact.required), actual: says(listed) },
    );
  }
  const missing = `${at} is missing`;
  if (fact.type !== undefined)
    findings.push(
      compare(`${at} has type`, fact.type, node ? node.type : undefined, node ? `${at} has no type` : missing),
    );
  if (fact.minimum !== undefined)
    findings.push(compare(`${at} has minimum`, fact.minimum, node?.minimum, node ? `${at} has no minimum` : missing));
  if (fact.maximum !== undefined)
    findings.push(compare(`${at} has maximum`, fact.maximum, node?.maximum, node ? `${at} has no maximum` : missing));
  if (fact.default !== undefined)
    findings.push(compare(`${at} defaults to`, fact.default, node?.default, node ? `${at} has no default` : missing));
  if (fact.enum !== undefined) {
    const expected = `${at} allows exactly ${fact.enum.join(", ")}`;
    const actual = node?.enum;
    const found = Array.isArray(actual)
      ? `${at} allows ${actual.map(String).join(", ")}`
      : node
        ? `${at} allows any value`
        : missing;
    findings.push(sameSet(fact.enum, actual) ? { expected } : { expected, actual: found });
  }
  if (fact.enumIncludes !== undefined) findings.push(includesFinding(at, fact.enumIncludes, node));
  if (fact.admits !== undefined) findings.push(admitsFinding(at, fact.admits, node));
  return findings;
}

/** Checks each fact against an OpenAPI v3 schema; a fact that does not hold carries `actual`. */
export function fieldFindings(facts: FieldFact[], schema: unknown): Finding[] {
  if (facts.length > 0 && !isRecord(schema)) {
    return [{ expected: "an openAPIV3Schema", actual: "the version has no schema" }];
  }
  return facts.flatMap((fact) => factFindings(fact, locate(schema, fact.path)));
}
