import { describe, expect, it } from "vitest";
import { createTraceBuilder, kubeObject } from "../trace-builder.ts";
import { evaluateCheck } from "../registry.ts";
import { verdictCases, type VerdictCase } from "./verdict-cases.ts";
import { ParamsSchema, evaluate } from "./expect.ts";

const db = (phase?: string) => kubeObject("Database", "orders", phase ? { status: { phase } } : {});
const backup = (phase?: string) =>
  kubeObject("Backup", "nightly", {
    spec: { databaseRef: { name: "orders" } },
    ...(phase ? { status: { phase } } : {}),
  });

const ready = ParamsSchema.parse({
  object: { kind: "Database", name: "orders" },
  expr: 'self.?status.?phase.orValue("") == "Ready"',
  expected: "phase Ready",
});
const completedWithReadyDb = ParamsSchema.parse({
  object: { kind: "Backup", name: "nightly" },
  expr: 'self.?status.?phase.orValue("") == "Completed" && db.?status.?phase.orValue("") == "Ready"',
  bind: { db: { kind: "Database", name: "orders" } },
});

type Case = VerdictCase<typeof ready>;

const cases: Case[] = [
  {
    name: "passes the moment the expression becomes true",
    params: ready,
    build: (t) => t.at(10).add(db()).at(20).modify(db("Provisioning")).at(35).modify(db("Ready")),
    status: "passed",
    decidedAt: 35,
    text: /reached phase Ready after 35 ms/,
  },
  {
    name: "stays pending while the object is still on its way",
    params: ready,
    build: (t) => t.at(10).add(db()).at(20).modify(db("Provisioning")),
    status: "pending",
  },
  {
    name: "fails at the deadline, saying where the object got to",
    params: ready,
    build: (t) => t.at(10).add(db()).at(20).modify(db("Deploying")),
    ctx: { final: true, now: 30_000 },
    status: "failed",
    decidedAt: 30_000,
    text: /Database orders is phase=Deploying/,
  },
  {
    name: "fails at the deadline when the object never appeared",
    params: ready,
    build: () => undefined,
    ctx: { final: true, now: 5000 },
    status: "failed",
    text: /never created/,
  },
  {
    name: "counts a state reached before the window opened",
    params: ready,
    build: (t) => t.at(10).add(db("Ready")),
    ctx: { since: 500, now: 500 },
    status: "passed",
    decidedAt: 500,
  },
  {
    name: "ignores a deleted object's last state",
    params: ready,
    build: (t) => t.at(10).add(db("Ready")).at(20).delete(db("Ready")),
    ctx: { since: 100, now: 100, final: true },
    status: "failed",
    text: /was deleted/,
  },
  {
    name: "re-evaluates when a bound object changes",
    params: completedWithReadyDb,
    build: (t) => t.at(5).add(db()).at(10).add(backup("Completed")).at(40).modify(db("Ready")),
    status: "passed",
    decidedAt: 40,
  },
  {
    name: "treats a missing bound object as null",
    params: completedWithReadyDb,
    build: (t) => t.at(10).add(backup("Completed")),
    ctx: { final: true, now: 100 },
    status: "failed",
  },
];

describe("expect check", () => {
  verdictCases(cases, (row, ctx) => evaluate(row.params!, ctx));

  it.each([
    { expr: "self.status.phase ==", problem: /invalid CEL/ },
    { expr: "db.status.phase == 'Ready'", problem: /Unknown variable: db/ },
    { expr: "1 + 1", problem: /must be true or false/ },
  ])("rejects the expression $expr", ({ expr, problem }) => {
    const result = ParamsSchema.safeParse({ object: { kind: "Database", name: "x" }, expr });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toMatch(problem);
    expect(result.error?.issues[0]?.path).toEqual(["expr"]);
  });

  describe("across a gap in the record", () => {
    const check = { type: "expect", params: ready };
    const reachedDeploying = () => createTraceBuilder().at(10).add(db()).at(20).modify(db("Deploying"));

    it("cannot fail when the watch of its kind was re-listed during its window: the state may have come and gone unseen", () => {
      const ctx = reachedDeploying().context({ final: true, now: 30_000 });
      const verdict = evaluateCheck(check, {
        ...ctx,
        trace: { ...ctx.trace, gaps: [{ kind: "Database", from: 25, to: 900 }] },
      });
      expect(verdict).toMatchObject({
        status: "undecidable",
        reason: expect.stringMatching(
          /record of Database objects has a gap from 25 ms to 900 ms.*may have happened unrecorded/,
        ),
      });
    });

    it("still fails when the gap was before its window or in a kind it does not read", () => {
      const ctx = reachedDeploying().context({ final: true, now: 30_000, since: 1000 });
      const gaps = [
        { kind: "Database", from: 25, to: 900 },
        { kind: "Backup", from: 2000, to: 3000 },
      ];
      expect(evaluateCheck(check, { ...ctx, trace: { ...ctx.trace, gaps } }).status).toBe("failed");
    });

    it("still passes on what it did see", () => {
      const ctx = reachedDeploying().at(40).modify(db("Ready")).context({ final: true, now: 30_000 });
      const verdict = evaluateCheck(check, {
        ...ctx,
        trace: { ...ctx.trace, gaps: [{ kind: "Database", from: 25, to: 900 }] },
      });
      expect(verdict.status).toBe("passed");
    });
  });
});
