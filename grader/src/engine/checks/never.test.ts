import { describe, expect, it } from "vitest";
import { createTraceBuilder, kubeObject, type TraceBuilder } from "../trace-builder.ts";
import { evaluateCheck } from "../registry.ts";
import { verdictCases, type VerdictCase } from "./verdict-cases.ts";
import { ParamsSchema, evaluate } from "./never.ts";

const db = (phase?: string) => kubeObject("Database", "orders", phase ? { status: { phase } } : {});
const backup = (phase?: string) => kubeObject("Backup", "nightly", phase ? { status: { phase } } : {});

const earlyCompletion = ParamsSchema.parse({
  object: { kind: "Backup", name: "nightly" },
  expr: 'self.?status.?phase.orValue("") == "Completed" && db.?status.?phase.orValue("") != "Ready"',
  bind: { db: { kind: "Database", name: "orders" } },
  forbidden: "Completed while its Database is not Ready",
});

type Case = VerdictCase;

const cases: Case[] = [
  {
    name: "stays pending while nothing forbidden happened",
    build: (t) => t.at(1).add(backup("Pending")).at(2).add(db()),
    status: "pending",
  },
  {
    name: "passes at the end of the window",
    build: (t) =>
      t
        .at(1)
        .add(backup("Pending"))
        .at(2)
        .add(db())
        .at(3)
        .modify(db("Ready"))
        .at(10_000)
        .modify(backup("InProgress"))
        .modify(backup("Completed")),
    ctx: { final: true, now: 60_000 },
    status: "passed",
  },
  {
    name: "fails the moment the Backup completes before its Database is Ready",
    build: (t) =>
      t
        .at(1)
        .add(backup("Pending"))
        .at(2)
        .add(db("Provisioning"))
        .at(7)
        .modify(backup("Completed"))
        .at(9)
        .modify(db("Ready")),
    status: "failed",
    decidedAt: 7,
    actual: /phase=Completed while Database orders was phase=Provisioning/,
  },
  {
    name: "binds null when the other object does not exist yet",
    build: (t) => t.at(4).add(backup("Completed")),
    status: "failed",
    actual: /while Database orders did not exist/,
  },
  {
    name: "binds the other object's state at that seq, not a later one",
    build: (t) => t.at(1).add(db("Deploying")).at(5).add(backup("Completed")).at(5).modify(db("Ready")),
    status: "failed",
    decidedAt: 5,
  },
  {
    // The operator watches Databases and completes the Backup a few ms after the Database's Ready
    // write; the Backup's watch stream delivered first. Revisions, not arrival, say what came first.
    name: "binds the other object as it was written before, even when its version arrived later",
    build: (t) => {
      t.at(1).add(db("Deploying")).add(backup("Pending"));
      const ready = t.lastRv() + 1;
      t.at(5)
        .modify(backup("Completed"), { rv: ready + 1 })
        .at(6)
        .modify(db("Ready"), { rv: ready });
    },
    ctx: { final: true, now: 100 },
    status: "passed",
  },
  {
    name: "fails when the other object's Ready was written after the Backup completed, whatever arrived first",
    build: (t) => {
      t.at(1).add(db("Deploying")).add(backup("Pending"));
      const completed = t.lastRv() + 1;
      t.at(5)
        .modify(db("Ready"), { rv: completed + 1 })
        .at(6)
        .modify(backup("Completed"), { rv: completed });
    },
    status: "failed",
    decidedAt: 6,
    actual: /phase=Completed while Database orders was phase=Deploying/,
  },
  {
    name: "does not judge later changes of the other object alone",
    build: (t) => t.at(1).add(db("Ready")).at(5).add(backup("Completed")).at(9).modify(db("Failed")),
    ctx: { final: true, now: 100 },
    status: "passed",
  },
  {
    name: "fails at the end when the object never appeared",
    build: (t) => t.at(1).add(db("Ready")),
    ctx: { final: true, now: 100 },
    status: "failed",
    actual: /never created/,
  },
  {
    name: "judges the state current when the window opened",
    build: (t) => t.at(1).add(backup("Completed")),
    ctx: { since: 50, now: 50 },
    status: "failed",
    decidedAt: 50,
  },
];

describe("never check", () => {
  verdictCases(cases, (row, ctx) => evaluate(earlyCompletion, ctx));
});

const gatedBeforeReady = ParamsSchema.parse({
  object: { kind: "Database", name: "orders" },
  bind: { b: { kind: "Backup", name: "nightly" } },
  expr: 'self.?status.?phase.orValue("") == "Ready" && b.?status.?phase.orValue("") != "Completed"',
  until: 'self.?status.?phase.orValue("") == "Ready"',
});

describe("never check with until", () => {
  it.each([
    {
      name: "closes the window at the first legitimate hand-over, so later flips of the other object do not count",
      build: (t: TraceBuilder) =>
        t
          .at(1)
          .add(backup("Completed"))
          .at(2)
          .add(db("Ready"))
          .at(3)
          .modify(backup("InProgress"))
          .at(4)
          .modify(db("Ready")),
      status: "passed",
      decidedAt: 2,
    },
    {
      name: "still fails when the first hand-over is forbidden",
      build: (t: TraceBuilder) => t.at(1).add(backup("InProgress")).at(2).add(db("Ready")),
      status: "failed",
      decidedAt: 2,
    },
    {
      name: "stays pending until the window closes one way or the other",
      build: (t: TraceBuilder) => t.at(1).add(backup("InProgress")).at(2).add(db("Provisioning")),
      status: "pending",
    },
  ])("$name", ({ build, status, decidedAt }) => {
    const t = createTraceBuilder();
    build(t);
    const verdict = evaluate(gatedBeforeReady, t.context({}));
    expect(verdict.status).toBe(status);
    if (verdict.status !== "pending" && decidedAt !== undefined) expect(verdict.decidedAt).toBe(decidedAt);
  });
});

const proceedsBeforeBackupReady = ParamsSchema.parse({
  object: { kind: "Database", name: "orders" },
  seen: {
    backupWasReady: {
      object: { kind: "Backup", name: "nightly" },
      expr: 'self.?status.?phase.orValue("") == "Completed"',
    },
  },
  expr: '!backupWasReady && self.?status.?phase.orValue("") == "Ready"',
});

describe("never check with seen facts", () => {
  it.each([
    {
      name: "a fact once true stays true, whatever the other object does next",
      build: (t: TraceBuilder) =>
        t.at(1).add(backup("Completed")).at(2).modify(backup("InProgress")).at(3).add(db("Ready")),
      status: "passed",
    },
    {
      name: "fails when the fact was never true before the judged version",
      build: (t: TraceBuilder) =>
        t.at(1).add(backup("InProgress")).at(2).add(db("Ready")).at(3).modify(backup("Completed")),
      status: "failed",
    },
  ])("$name", ({ build, status }) => {
    const t = createTraceBuilder();
    build(t);
    expect(evaluate(proceedsBeforeBackupReady, t.context({ final: true, now: 10 })).status).toBe(status);
  });

  it("rejects an alias that is both bound and seen", () => {
    const result = ParamsSchema.safeParse({
      object: { kind: "Database", name: "orders" },
      bind: { b: { kind: "Backup", name: "nightly" } },
      seen: { b: { object: { kind: "Backup", name: "nightly" }, expr: "true" } },
      expr: "b",
    });
    expect(result.success).toBe(false);
  });
});

describe("a never check over a record with a gap", () => {
  const check = { type: "never", params: earlyCompletion };
  const quiet = () =>
    createTraceBuilder()
      .at(1)
      .add(backup("Pending"))
      .at(2)
      .add(db("Provisioning"))
      .at(30)
      .modify(db("Ready"))
      .at(40)
      .modify(backup("Completed"));

  it("cannot pass when the watch of a kind it reads was re-listed during its window", () => {
    const t = quiet();
    const ctx = t.context({ final: true, now: 60 });
    const verdict = evaluateCheck(check, {
      ...ctx,
      trace: { ...ctx.trace, gaps: [{ kind: "Backup", from: 10, to: 20 }] },
    });
    expect(verdict).toMatchObject({
      status: "undecidable",
      reason: expect.stringMatching(/record of Backup objects has a gap from 10 ms to 20 ms/),
    });
  });

  it("passes when the gap was before its window or in a kind it does not read", () => {
    const t = quiet();
    const ctx = t.context({ final: true, now: 60, since: 25 });
    const gaps = [
      { kind: "Backup", from: 5, to: 20 },
      { kind: "Secret", from: 30, to: 31 },
    ];
    expect(evaluateCheck(check, { ...ctx, trace: { ...ctx.trace, gaps } }).status).toBe("passed");
  });

  it("still fails on what it did see", () => {
    const t = createTraceBuilder().at(1).add(db("Provisioning")).at(4).add(backup("Completed"));
    const ctx = t.context({ final: true, now: 60 });
    expect(
      evaluateCheck(check, { ...ctx, trace: { ...ctx.trace, gaps: [{ kind: "Backup", from: 10, to: 20 }] } }).status,
    ).toBe("failed");
  });
});
