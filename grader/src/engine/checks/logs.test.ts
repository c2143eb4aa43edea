import { describe, expect, it } from "vitest";
import { verdictCases, type VerdictCase } from "./verdict-cases.ts";
import { ParamsSchema, evaluate } from "./logs.ts";

const waiting = ParamsSchema.parse({ pattern: "waiting for backup", ignoreCase: true });
const noForbidden = ParamsSchema.parse({ pattern: "is forbidden", absent: true });

type Case = VerdictCase<typeof waiting>;

const line = 'INFO Waiting for backup condition to be ready {"backup": "nightly"}';

const cases: Case[] = [
  {
    name: "passes on a matching line",
    params: waiting,
    build: (t) => t.at(5).log("INFO Reconciling").at(9).log(line),
    status: "passed",
    decidedAt: 9,
  },
  {
    name: "stays pending without one",
    params: waiting,
    build: (t) => t.at(5).log("INFO Reconciling"),
    status: "pending",
  },
  {
    name: "fails at the deadline, counting lines seen",
    params: waiting,
    build: (t) => t.at(5).log("INFO Reconciling"),
    ctx: { final: true, now: 100 },
    status: "failed",
    actual: /1 line\(s\), none matching/,
  },
  // The step before the check made the operator print it a moment before the check started.
  {
    name: "counts a line printed just before the check started",
    params: waiting,
    build: (t) => t.at(5).log(line),
    ctx: { since: 10, now: 20 },
    status: "passed",
    decidedAt: 10,
  },
  {
    name: "absent: ignores lines from before its window",
    params: noForbidden,
    build: (t) => t.at(5).log('E1 "backups is forbidden: cannot list resource"'),
    ctx: { since: 10, now: 20, final: true },
    status: "passed",
  },
  {
    name: "absent: fails the moment the line appears",
    params: noForbidden,
    build: (t) => t.at(7).log('E1 "backups is forbidden: cannot list resource"'),
    status: "failed",
    decidedAt: 7,
    actual: /is forbidden/,
  },
  {
    name: "absent: stays pending until the end",
    params: noForbidden,
    build: (t) => t.at(7).log("INFO ok"),
    status: "pending",
  },
  {
    name: "absent: passes at the end",
    params: noForbidden,
    build: (t) => t.at(7).log("INFO ok"),
    ctx: { final: true, now: 50 },
    status: "passed",
  },
];

describe("logs check", () => {
  verdictCases(cases, (row, ctx) => evaluate(row.params!, ctx));

  it("rejects a broken pattern", () => {
    expect(ParamsSchema.safeParse({ pattern: "(" }).success).toBe(false);
  });
});
