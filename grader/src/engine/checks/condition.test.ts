import { describe } from "vitest";
import { condition, kubeObject } from "../trace-builder.ts";
import { verdictCases, type VerdictCase } from "./verdict-cases.ts";
import { ParamsSchema, evaluate } from "./condition.ts";

const backup = (...conditions: Record<string, string>[]) =>
  kubeObject("Backup", "nightly", { status: { phase: "Pending", conditions } });

const notFound = ParamsSchema.parse({
  object: { kind: "Backup", name: "nightly" },
  type: "BackupReady",
  status: "False",
  reason: "DatabaseNotFound",
});
const withMessage = ParamsSchema.parse({
  object: { kind: "Backup", name: "nightly" },
  type: "BackupReady",
  status: "True",
  messagePattern: "completed",
});

type Case = VerdictCase<typeof notFound>;

const cases: Case[] = [
  {
    name: "passes when type, status and reason match",
    params: notFound,
    build: (t) =>
      t
        .at(5)
        .add(backup())
        .at(9)
        .modify(backup(condition("BackupReady", "False", "DatabaseNotFound"))),
    status: "passed",
    decidedAt: 9,
  },
  {
    name: "stays pending on another reason",
    params: notFound,
    build: (t) => t.at(5).add(backup(condition("BackupReady", "False", "DatabaseNotReady"))),
    status: "pending",
  },
  {
    name: "fails with the condition actually found",
    params: notFound,
    build: (t) => t.at(5).add(backup(condition("BackupReady", "False", "NoDatabase", "db missing"))),
    ctx: { final: true, now: 30_000 },
    status: "failed",
    expected: /BackupReady=False\/DatabaseNotFound/,
    actual: /BackupReady=False\/NoDatabase \("db missing"\)/,
  },
  {
    name: "fails saying the condition is missing",
    params: notFound,
    build: (t) => t.at(5).add(backup()),
    ctx: { final: true, now: 30_000 },
    status: "failed",
    actual: /no BackupReady condition/,
  },
  {
    name: "matches the message pattern",
    params: withMessage,
    build: (t) =>
      t.at(5).add(backup(condition("BackupReady", "True", "BackupCompleted", "Backup completed successfully"))),
    status: "passed",
  },
  {
    name: "does not match a message that does not fit the pattern",
    params: withMessage,
    build: (t) => t.at(5).add(backup(condition("BackupReady", "True", "BackupCompleted", "done"))),
    ctx: { final: true, now: 100 },
    status: "failed",
  },
];

describe("condition check", () => {
  verdictCases(cases, (row, ctx) => evaluate(row.params!, ctx));
});
