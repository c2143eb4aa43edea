import { describe, expect, it } from "vitest";
import { kubeObject, type TraceBuilder } from "../trace-builder.ts";
import { verdictCases, type VerdictCase } from "./verdict-cases.ts";
import { ParamsSchema, evaluate } from "./sequence.ts";

const backup = (phase?: string) => kubeObject("Backup", "nightly", phase ? { status: { phase } } : {});
const params = ParamsSchema.parse({
  object: { kind: "Backup", name: "nightly" },
  value: "self.status.phase",
  label: "phase",
  order: ["Pending", "Completed"],
});

const phases = (t: TraceBuilder, ...list: (string | undefined)[]) => {
  list.forEach((phase, i) => {
    t.at(10 * (i + 1));
    if (i === 0) t.add(backup(phase));
    else t.modify(backup(phase));
  });
};

type Case = VerdictCase;

const cases: Case[] = [
  {
    name: "passes on the exact order",
    build: (t) => phases(t, undefined, "Pending", "Completed"),
    status: "passed",
    decidedAt: 30,
  },
  {
    name: "allows other values in between and repeats",
    build: (t) => phases(t, "Pending", "Pending", "InProgress", "Completed"),
    status: "passed",
    decidedAt: 40,
  },
  { name: "stays pending before the last value", build: (t) => phases(t, "Pending", "InProgress"), status: "pending" },
  {
    name: "fails when a value was skipped, listing what happened",
    build: (t) => phases(t, undefined, "InProgress", "Completed", "Completed"),
    ctx: { final: true, now: 60_000 },
    status: "failed",
    actual: /^it went InProgress → Completed$/,
  },
  {
    name: "fails when the order is reversed",
    build: (t) => phases(t, "Completed", "Pending"),
    ctx: { final: true, now: 60_000 },
    status: "failed",
    actual: /Completed → Pending/,
  },
  {
    name: "fails when the object never appeared",
    build: () => undefined,
    ctx: { final: true, now: 60_000 },
    status: "failed",
    actual: /never created/,
  },
  {
    name: "reads history from before the window",
    build: (t) => phases(t, "Pending", "Completed"),
    ctx: { since: 1000, now: 1000 },
    status: "passed",
    decidedAt: 1000,
  },
];

describe("sequence check", () => {
  verdictCases(cases, (row, ctx) => evaluate(params, ctx));

  it("needs at least two values", () => {
    expect(ParamsSchema.safeParse({ ...params, order: ["Completed"] }).success).toBe(false);
  });
});
