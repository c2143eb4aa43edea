import { z } from "zod";
import { LabFileSchema } from "./lab.ts";

/** Where lab files point editors: `# yaml-language-server: $schema=../lab.schema.json`. */
export const LAB_JSON_SCHEMA_FILE = "lab.schema.json";

/**
 * The JSON Schema of a lab file, for editors (completion, inline errors) — generated from the
 * zod schemas, so it cannot drift. Cross-references and CEL are checked by `lintLabs` only.
 */
export function labJsonSchema(): string {
  const schema = z.toJSONSchema(LabFileSchema, { io: "input", unrepresentable: "any" });
  return `${JSON.stringify({ ...schema, title: "labgrader lab file" }, null, 2)}\n`;
}
