import { describe, expect, it } from "vitest";
import { rootCauses, WaitsForSchema } from "./causes.ts";
import { condition, createTraceBuilder, kubeObject } from "./trace-builder.ts";

const backup = (phase: string, reason: string) =>
  kubeObject("Backup", "inventory-backup", {
    status: { phase, conditions: [condition("BackupReady", "False", reason)] },
  });
const completes = WaitsForSchema.parse({
  object: { kind: "Backup", name: "inventory-backup" },
  expr: 'self.?status.?phase.orValue("") == "Completed"',
  state: "phase Completed",
  task: "1.4",
});

describe("root causes", () => {
  it("names a dependency stuck short of its state, since when, its task, and the operator's troubled line about it", () => {
    const t = createTraceBuilder()
      .at(1_000)
      .add(backup("Pending", "DatabaseNotReady"))
      .at(42_000)
      .modify(backup("InProgress", "BackupInProgress"))
      .log('ERROR Conflict updating backup status, requeuing {"backup": "inventory-backup"}')
      .at(47_000)
      .modify(backup("InProgress", "BackupInProgress"));
    expect(rootCauses([completes], t.trace(), "ns", 90_000)).toEqual([
      'Backup inventory-backup never reached phase Completed: it stayed phase=InProgress BackupReady=False/BackupInProgress from 42.0 s to the end (90.0 s) (Task 1.4); the operator logged at 42.0 s: ERROR Conflict updating backup status, requeuing {"backup": "inventory-backup"}',
    ]);
  });

  it("says a dependency that was never created", () => {
    expect(rootCauses([completes], createTraceBuilder().trace(), "ns", 5_000)).toEqual([
      "Backup inventory-backup was never created, so it never reached phase Completed (Task 1.4)",
    ]);
  });

  it("says nothing of a dependency that got there", () => {
    const t = createTraceBuilder()
      .at(1)
      .add(backup("Completed", "BackupCompleted"))
      .at(2)
      .modify(backup("Pending", "DatabaseNotReady"));
    expect(rootCauses([completes], t.trace(), "ns", 5_000)).toEqual([]);
  });
});
