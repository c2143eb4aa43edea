import { describe, expect, it } from "vitest";
import type { CheckContext } from "../check.ts";
import { condition, createTraceBuilder, kubeObject, type TraceBuilder } from "../trace-builder.ts";
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

interface Case {
  name: string;
  params: typeof notFound;
  build: (t: TraceBuilder) => void;
  ctx?: Partial<CheckContext>;
  status: "pending" | "passed" | "failed";
  decidedAt?: number;
  expected?: RegExp;
  actual?: RegExp;
}

const cases: Case[] = [
  {
    name: "passes when type, status and reason match",
    params: notFound,
    build: (t) => t.at(5).add(backup()).at(9).modify(backup(condition("BackupReady", "False", "DatabaseNotFound"))),
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
    build: (t) => t.at(5).add(backup(condition("BackupReady", "True", "BackupCompleted", "Backup completed successfully"))),
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
  it.each(cases)("$name", ({ params, build, ctx, status, decidedAt, expected, actual }) => {
    const t = createTraceBuilder();
    build(t);
    const verdict = evaluate(params, t.context(ctx));
    expect(verdict.status).toBe(status);
    if (verdict.status === "pending") return;
    if (decidedAt !== undefined) expect(verdict.decidedAt).toBe(decidedAt);
    if (verdict.status !== "failed") return;
    if (expected) expect(verdict.expected).toMatch(expected);
    if (actual) expect(verdict.actual).toMatch(actual);
  });
});
