import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { COURSE_JSON_SCHEMA_FILE, courseJsonSchema } from "../engine/course.ts";
import { LAB_JSON_SCHEMA_FILE, labJsonSchema } from "../engine/lab-json-schema.ts";
import { LABS_DIR } from "./load.ts";

/** The committed JSON Schemas that lab and course files point editors to, each with its generator. */
const SCHEMA_FILES = [
  { file: LAB_JSON_SCHEMA_FILE, generate: labJsonSchema },
  { file: COURSE_JSON_SCHEMA_FILE, generate: courseJsonSchema },
] as const;

/** Regenerates labs/lab.schema.json and labs/course.schema.json from the zod schemas. */
export async function writeJsonSchemas(labsDir: string = LABS_DIR): Promise<string[]> {
  const paths = SCHEMA_FILES.map(({ file }) => join(labsDir, file));
  await Promise.all(SCHEMA_FILES.map(({ generate }, i) => writeFile(paths[i]!, generate())));
  return paths;
}

/** The committed schema files that do not match what the zod schemas generate now. */
export async function staleJsonSchemas(labsDir: string = LABS_DIR): Promise<string[]> {
  const stale: string[] = [];
  for (const { file, generate } of SCHEMA_FILES) {
    const committed = await readFile(join(labsDir, file), "utf8").catch(() => "");
    if (committed !== generate()) stale.push(file);
  }
  return stale;
}

// `node grader/src/labs/json-schema-file.ts` regenerates the files.
if (import.meta.main) {
  console.log(`wrote ${(await writeJsonSchemas()).join(", ")}`);
}
