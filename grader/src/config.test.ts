import { describe, expect, it } from "vitest";
import { graderConfigFromEnv } from "./config.ts";

describe("graderConfigFromEnv", () => {
  it("creates one kind cluster at a time unless told otherwise", () => {
    expect(graderConfigFromEnv({}).kindParallelCreates).toBe(1);
    expect(graderConfigFromEnv({ LABGRADER_KIND_PARALLEL_CREATES: "3" }).kindParallelCreates).toBe(3);
  });

  it("refuses a parallel-create count that is not a positive whole number", () => {
    for (const value of ["0", "-1", "1.5", "many"])
      expect(() => graderConfigFromEnv({ LABGRADER_KIND_PARALLEL_CREATES: value })).toThrow();
  });

  // The grading commands run managers unsandboxed unless LABGRADER_SANDBOX is on; the worker sandboxes them unless it is off.
  it.each([
    [undefined, undefined],
    ["", undefined],
    ["1", true],
    ["YES", true],
    ["on", true],
    ["0", false],
    ["False", false],
    ["off", false],
    ["maybe", undefined],
  ])("reads LABGRADER_SANDBOX=%s as %s", (value, sandbox) => {
    expect(graderConfigFromEnv(value === undefined ? {} : { LABGRADER_SANDBOX: value }).sandbox).toBe(sandbox);
  });
});
