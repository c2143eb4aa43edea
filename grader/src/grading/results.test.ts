import { describe, expect, it } from "vitest";
import type { CheckResult } from "../contracts.ts";
import { earned } from "./results.ts";

const check = (id: string, status: CheckResult["status"]): CheckResult => ({
  id,
  task: "1.4",
  title: `the ${id} check`,
  required: true,
  points: 2,
  status,
  message: status,
  hint: "",
  decidedAtMs: 1,
});

describe("a check earned only with its requirements", () => {
  it("keeps its pass when what it requires passed", () => {
    expect(earned(check("never-early", "passed"), [check("completes", "passed")], ["completes"]).status).toBe("passed");
  });

  it("loses its points when the operator was never seen doing the work (an idle operator)", () => {
    const result = earned(check("never-early", "passed"), [check("completes", "failed")], ["completes"]);
    expect(result.status).toBe("failed");
    expect(result.message).toMatch(/^Not earned: .*"the completes check" \(failed\) did not pass/);
  });

  it("is undecided, never a loss, when its requirement could not be decided by the platform", () => {
    expect(earned(check("never-early", "passed"), [check("completes", "error")], ["completes"]).status).toBe("error");
    expect(earned(check("never-early", "passed"), [], ["completes"]).status).toBe("error");
  });

  it("leaves a failure as it is", () => {
    expect(earned(check("never-early", "failed"), [check("completes", "passed")], ["completes"]).message).toBe(
      "failed",
    );
  });
});
