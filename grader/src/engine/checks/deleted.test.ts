import { describe, expect, it } from "vitest";
import type { CheckContext } from "../check.ts";
import { createTraceBuilder, kubeObject, type TraceBuilder } from "../trace-builder.ts";
import { ParamsSchema, evaluate } from "./deleted.ts";

const FINALIZER = "database.example.com/finalizer";
const db = (deleting = false, finalizers = [FINALIZER]) =>
  kubeObject("Database", "orders", {
    status: { phase: "Ready" },
    metadata: { finalizers, ...(deleting ? { deletionTimestamp: "2026-01-01T00:00:00Z" } : {}) },
  });
const sts = kubeObject("StatefulSet", "orders", { status: { readyReplicas: 1 } }, "apps/v1");

const params = ParamsSchema.parse({
  objects: [
    { kind: "Database", name: "orders" },
    { kind: "StatefulSet", name: "orders" },
  ],
});

interface Case {
  name: string;
  build: (t: TraceBuilder) => void;
  ctx?: Partial<CheckContext>;
  status: "pending" | "passed" | "failed";
  decidedAt?: number;
  actual?: RegExp;
}

const cases: Case[] = [
  {
    name: "passes when every object is gone",
    build: (t) => t.at(1).add(db()).add(sts).at(50).modify(db(true)).at(60).modify(db(true, [])).delete(db(true, [])).at(70).delete(sts),
    status: "passed",
    decidedAt: 70,
  },
  {
    name: "stays pending while one remains",
    build: (t) => t.at(1).add(db()).add(sts).at(60).delete(db(true, [])),
    status: "pending",
  },
  {
    name: "fails naming a finalizer that was never removed",
    build: (t) => t.at(1).add(db()).add(sts).at(50).modify(db(true)).at(70).delete(sts),
    ctx: { final: true, now: 90_000 },
    status: "failed",
    actual: /Database orders is stuck deleting: finalizer database\.example\.com\/finalizer/,
  },
  {
    name: "fails on an object re-created after deletion",
    build: (t) => t.at(1).add(db()).add(sts).at(60).delete(db(true, [])).delete(sts).at(61).add(sts),
    ctx: { final: true, now: 90_000 },
    status: "failed",
    actual: /^StatefulSet orders still exists \(readyReplicas=1\)$/,
  },
  {
    name: "fails on an object that never existed",
    build: (t) => t.at(1).add(db()).at(60).delete(db(true, [])),
    ctx: { final: true, now: 90_000 },
    status: "failed",
    actual: /StatefulSet orders was never created/,
  },
];

describe("deleted check", () => {
  it.each(cases)("$name", ({ build, ctx, status, decidedAt, actual }) => {
    const t = createTraceBuilder();
    build(t);
    const verdict = evaluate(params, t.context(ctx));
    expect(verdict.status).toBe(status);
    if (verdict.status === "pending") return;
    if (decidedAt !== undefined) expect(verdict.decidedAt).toBe(decidedAt);
    if (verdict.status === "failed" && actual) expect(verdict.actual).toMatch(actual);
  });
});
