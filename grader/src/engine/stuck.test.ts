import { describe, expect, it } from "vitest";
import { evaluateCheck } from "./registry.ts";
import { createTraceBuilder, kubeObject } from "./trace-builder.ts";

const backup = (phase: string) => kubeObject("Backup", "orders-backup", { status: { phase } });
const db = (phase: string) => kubeObject("Database", "orders", { status: { phase } });
const completes = {
  type: "expect",
  params: { object: { kind: "Backup", name: "orders-backup" }, expr: 'self.?status.?phase.orValue("") == "Completed"', expected: "phase Completed" },
  stuckAfterMs: 30_000,
  waitsFor: [{ object: { kind: "Database", name: "orders" } }],
};

describe("a check that stops waiting on a record standing still", () => {
  it("fails once nothing it reads has changed for its stuckAfter, long before its timeout", () => {
    const t = createTraceBuilder().at(1_000).add(backup("InProgress")).add(db("Ready"));
    expect(evaluateCheck(completes, t.context({ now: 20_000 }))).toEqual({ status: "pending", recheckAt: 31_000 });
    const verdict = evaluateCheck(completes, t.context({ now: 31_000 }));
    expect(verdict.status).toBe("failed");
    if (verdict.status === "failed") expect(verdict.message).toMatch(/nothing it depends on, nor anything in its namespace, changed for 30\.0 s/);
  });

  it("keeps waiting while what it depends on still moves (a slow Database's transitions)", () => {
    const t = createTraceBuilder().at(0).add(backup("Pending")).add(db("Provisioning")).at(15_000).modify(db("Configuring")).at(30_000).modify(db("Deploying"));
    expect(evaluateCheck(completes, t.context({ now: 45_000 })).status).toBe("pending");
  });

  it("keeps waiting while its namespace is busy (a real pod starting: Events of the scheduler and the kubelet)", () => {
    const t = createTraceBuilder().at(0).add(backup("Pending")).add(db("Deploying"));
    for (const at of [20_000, 40_000, 60_000]) t.at(at).event({ api: "core/v1", type: "Normal", reason: "Pulled", message: "image present", regarding: { kind: "Pod", name: "orders-0", namespace: "ns" } });
    expect(evaluateCheck(completes, t.context({ now: 80_000 })).status).toBe("pending");
    expect(evaluateCheck(completes, t.context({ now: 91_000 })).status).toBe("failed");
  });

  it("still passes the moment it holds", () => {
    const t = createTraceBuilder().at(0).add(db("Ready")).at(50_000).add(backup("Completed"));
    expect(evaluateCheck(completes, t.context({ now: 90_000 })).status).toBe("passed");
  });
});
