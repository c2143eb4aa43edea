import { describe, expect, it } from "vitest";
import { staleJsonSchemas } from "./json-schema-file.ts";

describe("labs/lab.schema.json and labs/course.schema.json", () => {
  it("are up to date with the zod schemas (regenerate: node grader/src/labs/json-schema-file.ts)", async () => {
    expect(await staleJsonSchemas()).toEqual([]);
  });
});
