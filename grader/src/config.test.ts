import { describe, expect, it } from "vitest";
import { graderConfigFromEnv } from "./config.ts";

describe("graderConfigFromEnv", () => {
  it("creates one kind cluster at a time unless told otherwise", () => {
    expect(graderConfigFromEnv({}).kindParallelCreates).toBe(1);
    expect(graderConfigFromEnv({ LABGRADER_KIND_PARALLEL_CREATES: "3" }).kindParallelCreates).toBe(3);
  });

  it("refuses a parallel-create count that is not a positive whole number", () => {
    for (const value of ["0", "-1", "1.5", "many"]) expect(() => graderConfigFromEnv({ LABGRADER_KIND_PARALLEL_CREATES: value })).toThrow();
  });
});
