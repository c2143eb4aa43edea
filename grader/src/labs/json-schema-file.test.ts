import { describe, expect, it } from "vitest";
import { isLabJsonSchemaCurrent } from "./json-schema-file.ts";

describe("labs/lab.schema.json", () => {
  it("is up to date with the lab schema (regenerate: node grader/src/labs/json-schema-file.ts)", async () => {
    expect(await isLabJsonSchemaCurrent()).toBe(true);
  });
});
