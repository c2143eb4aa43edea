import { describe, expect, it } from "vitest";
import { checkTypes } from "./registry.ts";
import { replayCheck } from "./replay.ts";
import { createTraceBuilder, kubeObject } from "./trace-builder.ts";

const backup = (phase: string, time = "t0") => kubeObject("Backup", "nightly", { status: { phase, backupTime: time } });
const trace = createTraceBuilder()
  .at(1000)
  .add(backup("Pending"))
  .at(11_000)
  .modify(backup("InProgress"))
  .at(11_005)
  .modify(backup("Completed"))
  .at(12_000)
  .log("INFO backup done")
  .trace();
const window = { namespace: "ns", since: 0, deadline: 60_000 };

describe("replayCheck", () => {
  it.each([
    {
      name: "decides an expect at the record that made it true",
      check: {
        type: "expect",
        params: { object: { kind: "Backup", name: "nightly" }, expr: 'self.status.phase == "Completed"' },
      },
      status: "passed",
      decidedAt: 11_005,
    },
    {
      name: "decides a never only at the deadline",
      check: {
        type: "never",
        params: { object: { kind: "Backup", name: "nightly" }, expr: 'self.status.phase == "Failed"' },
      },
      status: "passed",
      decidedAt: 60_000,
    },
    {
      name: "wakes a quiet check when its window closes, before the deadline",
      check: {
        type: "quiet",
        params: {
          object: { kind: "Backup", name: "nightly" },
          after: 'self.status.phase == "Completed"',
          maxUpdates: 0,
          window: "10s",
        },
      },
      status: "passed",
      decidedAt: 21_005,
    },
    {
      name: "fails a logs check at the deadline",
      check: { type: "logs", params: { pattern: "forbidden" } },
      status: "failed",
      decidedAt: 60_000,
    },
  ])("$name", ({ check, status, decidedAt }) => {
    const verdict = replayCheck(check, trace, window);
    expect(verdict.status).toBe(status);
    expect(verdict.decidedAt).toBe(decidedAt);
  });

  it("keeps every check type decided once final", () => {
    const empty = createTraceBuilder().trace();
    const minimal: Record<string, unknown> = {
      crd: { name: "backups.database.example.com" },
      admission: { manifest: { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "x" } }, outcome: "accepted" },
      rbac: { verb: "get", group: "", resource: "pods" },
      expect: { object: { kind: "Backup", name: "b" }, expr: "true" },
      condition: { object: { kind: "Backup", name: "b" }, type: "Ready", status: "True" },
      sequence: { object: { kind: "Backup", name: "b" }, value: "self.status.phase", order: ["A", "B"] },
      never: { object: { kind: "Backup", name: "b" }, expr: "true" },
      quiet: { object: { kind: "Backup", name: "b" }, after: "true", maxUpdates: 0, window: "1s" },
      deleted: { objects: [{ kind: "Backup", name: "b" }] },
      logs: { pattern: "x" },
      events: { object: { kind: "Backup", name: "b" } },
    };
    for (const type of Object.keys(checkTypes)) {
      expect(replayCheck({ type, params: minimal[type] }, empty, window).status, type).not.toBe("pending");
    }
  });
});
