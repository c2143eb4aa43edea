import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { LAB_JSON_SCHEMA_FILE, labJsonSchema } from "../engine/lab-json-schema.ts";
import { LABS_DIR } from "./load.ts";

/** Path of the committed JSON Schema that lab files point editors to. */
export function labJsonSchemaPath(labsDir: string = LABS_DIR): string {
  return join(labsDir, LAB_JSON_SCHEMA_FILE);
}

/** Regenerates labs/lab.schema.json from the zod schemas. */
export async function writeLabJsonSchema(labsDir: string = LABS_DIR): Promise<string> {
  const path = labJsonSchemaPath(labsDir);
  await writeFile(path, labJsonSchema());
  return path;
}

/** Whether the committed file matches what the schemas generate now. */
export async function isLabJsonSchemaCurrent(labsDir: string = LABS_DIR): Promise<boolean> {
  const committed = await readFile(labJsonSchemaPath(labsDir), "utf8").catch(() => "");
  return committed === labJsonSchema();
}

// `node grader/src/labs/json-schema-file.ts` regenerates the file.
if (import.meta.main) {
  console.log(`wrote ${await writeLabJsonSchema()}`);
}
