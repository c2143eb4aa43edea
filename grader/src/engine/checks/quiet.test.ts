import { describe, expect, it } from "vitest";
import type { CheckContext } from "../check.ts";
import { createTraceBuilder, kubeObject, type TraceBuilder } from "../trace-builder.ts";
import { verdictCases, type VerdictCase } from "./verdict-cases.ts";
import { ParamsSchema, evaluate } from "./quiet.ts";

const backup = (phase: string, backupTime = "t0", deleting = false) =>
  kubeObject("Backup", "nightly", {
    status: { phase, backupTime },
    ...(deleting ? { metadata: { deletionTimestamp: "2026-01-01T00:00:00Z" } } : {}),
  });
const params = ParamsSchema.parse({
  object: { kind: "Backup", name: "nightly" },
  after: 'self.?status.?phase.orValue("") == "Completed"',
  state: "Completed",
  maxUpdates: 1,
  window: "30s",
});

type Case = VerdictCase;

const cases: Case[] = [
  {
    name: "waits for the window to close, asking to be woken then",
    build: (t) => t.at(1000).add(backup("Pending")).at(2000).modify(backup("Completed")),
    status: "pending",
    recheckAt: 32_000,
  },
  {
    name: "passes once the window has passed quietly",
    build: (t) => t.at(1000).add(backup("Pending")).at(2000).modify(backup("Completed")),
    ctx: { now: 40_000 },
    status: "passed",
    decidedAt: 32_000,
  },
  {
    name: "tolerates the allowed number of updates",
    build: (t) => t.at(2000).add(backup("Completed")).at(2500).modify(backup("Completed", "t1")),
    ctx: { now: 40_000 },
    status: "passed",
  },
  {
    name: "fails the moment the updates exceed the limit",
    build: (t) =>
      t
        .at(2000)
        .add(backup("Completed"))
        .at(12_000)
        .modify(backup("Completed", "t1"))
        .at(22_000)
        .modify(backup("Completed", "t2")),
    status: "failed",
    decidedAt: 22_000,
    actual: /2 updates within 20\.0 s/,
  },
  {
    name: "does not count updates after the window",
    build: (t) =>
      t
        .at(2000)
        .add(backup("Completed"))
        .at(40_000)
        .modify(backup("Completed", "t1"))
        .modify(backup("Completed", "t2")),
    status: "passed",
  },
  {
    name: "does not count a deletion",
    build: (t) =>
      t
        .at(2000)
        .add(backup("Completed"))
        .at(3000)
        .modify(backup("Completed", "t0", true))
        .modify(backup("Completed", "t0", true)),
    ctx: { final: true, now: 4000 },
    status: "passed",
  },
  {
    name: "fails at the end when the state was never reached",
    build: (t) => t.at(2000).add(backup("Pending")),
    ctx: { final: true, now: 60_000 },
    status: "failed",
    actual: /phase=Pending/,
  },
];

describe("quiet check", () => {
  verdictCases(cases, (row, ctx) => evaluate(params, ctx));
});

describe("quiet check counting only some updates", () => {
  const newBackups = ParamsSchema.parse({
    object: { kind: "Backup", name: "nightly" },
    after: 'self.?status.?phase.orValue("") == "Completed"',
    state: "phase Completed",
    maxUpdates: 0,
    window: "12s",
    counts:
      'self.?status.?phase.orValue("") != "Completed" || self.?status.?backupTime.orValue("") != before.?status.?backupTime.orValue("")',
    counted: "new backups",
  });

  it.each([
    {
      name: "does not count an update that takes no new backup (a condition's message, a label)",
      build: (t: TraceBuilder) => t.at(1000).add(backup("Completed")).at(3000).modify(backup("Completed")),
      ctx: { now: 20_000 },
      status: "passed",
    },
    {
      name: "fails on a backup taken again (the Backup left Completed, or its backupTime moved)",
      build: (t: TraceBuilder) =>
        t
          .at(1000)
          .add(backup("Completed"))
          .at(5000)
          .modify(backup("InProgress", "t0"))
          .modify(backup("Completed", "t1")),
      status: "failed",
      actual: /^2 new backups within 4\.0 s/,
    },
    {
      name: "fails on a backupTime rewritten while staying Completed",
      build: (t: TraceBuilder) => t.at(1000).add(backup("Completed")).at(9000).modify(backup("Completed", "t9")),
      status: "failed",
    },
  ])(
    "$name",
    ({
      build,
      ctx,
      status,
      actual,
    }: {
      build: (t: TraceBuilder) => void;
      ctx?: Partial<CheckContext>;
      status: string;
      actual?: RegExp;
    }) => {
      const t = createTraceBuilder();
      build(t);
      const verdict = evaluate(newBackups, t.context(ctx));
      expect(verdict.status).toBe(status);
      if (verdict.status === "failed" && actual) expect(verdict.actual).toMatch(actual);
    },
  );
});
