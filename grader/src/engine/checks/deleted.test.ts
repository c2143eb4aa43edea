import { describe, expect, it } from "vitest";
import type { CheckContext } from "../check.ts";
import { createTraceBuilder, kubeObject, type TraceBuilder } from "../trace-builder.ts";
import { verdictCases, type VerdictCase } from "./verdict-cases.ts";
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

type Case = VerdictCase;

const cases: Case[] = [
  {
    name: "passes when every object is gone",
    build: (t) =>
      t
        .at(1)
        .add(db())
        .add(sts)
        .at(50)
        .modify(db(true))
        .at(60)
        .modify(db(true, []))
        .delete(db(true, []))
        .at(70)
        .delete(sts),
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
  verdictCases(cases, (row, ctx) => evaluate(params, ctx));
});

describe("deleted check following ownerReferences", () => {
  const owned = ParamsSchema.parse({ objects: [{ kind: "Database", name: "orders" }], owned: true });
  const owner = (deleting = false) =>
    kubeObject("Database", "orders", {
      metadata: { uid: "db-uid", ...(deleting ? { deletionTimestamp: "2026-01-01T00:00:00Z" } : {}) },
    });
  const child = (kind: string, name: string, ownerUid = "db-uid") =>
    kubeObject(kind, name, {
      metadata: {
        ownerReferences: [{ apiVersion: "database.example.com/v1", kind: "Database", name: "orders", uid: ownerUid }],
      },
    });
  const claim = child("PersistentVolumeClaim", "data-orders-0");

  it.each([
    {
      name: "passes when the owner and every child it owned are gone, whatever their names (its claims may stay)",
      build: (t: TraceBuilder) =>
        t
          .at(1)
          .add(owner())
          .add(child("Secret", "orders-secret"))
          .add(child("StatefulSet", "pg-orders"))
          .add(claim)
          .at(50)
          .delete(owner(true))
          .at(51)
          .delete(child("Secret", "orders-secret"))
          .delete(child("StatefulSet", "pg-orders")),
      status: "passed",
      decidedAt: 51,
    },
    {
      name: "fails naming a child left behind",
      build: (t: TraceBuilder) => t.at(1).add(owner()).add(child("Service", "orders-svc")).at(50).delete(owner(true)),
      ctx: { final: true, now: 90_000 },
      status: "failed",
      actual: /^Service orders-svc still exists/,
    },
    {
      name: "does not count objects owned by something else",
      build: (t: TraceBuilder) =>
        t
          .at(1)
          .add(owner())
          .add(child("Service", "other", "other-uid"))
          .at(50)
          .delete(owner(true)),
      status: "passed",
    },
  ])(
    "$name",
    ({
      build,
      ctx,
      status,
      decidedAt,
      actual,
    }: {
      build: (t: TraceBuilder) => void;
      ctx?: Partial<CheckContext>;
      status: string;
      decidedAt?: number;
      actual?: RegExp;
    }) => {
      const t = createTraceBuilder();
      build(t);
      const verdict = evaluate(owned, t.context(ctx));
      expect(verdict.status).toBe(status);
      if (decidedAt !== undefined && verdict.status === "passed") expect(verdict.decidedAt).toBe(decidedAt);
      if (verdict.status === "failed" && actual) expect(verdict.actual).toMatch(actual);
    },
  );
});

describe("deleted check over a namespace's children", () => {
  const children = ParamsSchema.parse({
    objects: [{ kind: "Database", name: "orders" }],
    owned: true,
    everyInNamespace: ["Secret", "StatefulSet", "Service"],
  });
  const owner = (deleting = false) =>
    kubeObject("Database", "orders", {
      metadata: { uid: "db-uid", ...(deleting ? { deletionTimestamp: "2026-01-01T00:00:00Z" } : {}) },
    });

  it("fails on a child without an owner reference that stays behind", () => {
    const t = createTraceBuilder()
      .at(1)
      .add(owner())
      .add(kubeObject("StatefulSet", "orders-pg", {}, "apps/v1"))
      .at(50)
      .delete(owner(true));
    const verdict = evaluate(children, t.context({ final: true, now: 90_000 }));
    expect(verdict.status).toBe("failed");
    if (verdict.status === "failed") expect(verdict.actual).toMatch(/^StatefulSet orders-pg still exists/);
  });

  it("passes once every one of them is gone, and ignores other namespaces", () => {
    const elsewhere = kubeObject("Secret", "other", { namespace: "other-ns" }, "v1");
    const t = createTraceBuilder()
      .at(1)
      .add(owner())
      .add(kubeObject("Secret", "orders-auth", {}, "v1"))
      .add(elsewhere)
      .at(50)
      .delete(owner(true))
      .at(52)
      .delete(kubeObject("Secret", "orders-auth", {}, "v1"));
    expect(evaluate(children, t.context({})).status).toBe("passed");
  });
});

describe("deleted check with cleanup first", () => {
  const cleanup = ParamsSchema.parse({
    objects: [{ kind: "Database", name: "orders" }],
    owned: true,
    everyInNamespace: ["Secret", "StatefulSet", "Service"],
    cleanupFirst: true,
  });
  const owner = (deleting = false, finalizers = [FINALIZER]) =>
    kubeObject("Database", "orders", {
      metadata: { uid: "db-uid", finalizers, ...(deleting ? { deletionTimestamp: "2026-01-01T00:00:00Z" } : {}) },
    });
  const child = (kind: string, name: string, deleting = false) =>
    kubeObject(
      kind,
      name,
      {
        metadata: {
          ownerReferences: [{ apiVersion: "database.example.com/v1", kind: "Database", name: "orders", uid: "db-uid" }],
          ...(deleting ? { deletionTimestamp: "2026-01-01T00:00:00Z", finalizers: ["foregroundDeletion"] } : {}),
        },
      },
      kind === "StatefulSet" ? "apps/v1" : "v1",
    );

  it.each([
    {
      name: "passes when the children are deleted before the finalizer lets the owner go",
      build: (t: TraceBuilder) =>
        t
          .at(1)
          .add(owner())
          .add(child("Secret", "orders-credentials"))
          .add(child("StatefulSet", "orders"))
          .at(50)
          .modify(owner(true))
          .at(51)
          .delete(child("StatefulSet", "orders"))
          .delete(child("Secret", "orders-credentials"))
          .at(52)
          .delete(owner(true, [])),
      ctx: {},
      status: "passed",
    },
    {
      name: "passes when a child was only being deleted (foreground) as the owner went",
      build: (t: TraceBuilder) =>
        t
          .at(1)
          .add(owner())
          .add(child("StatefulSet", "orders"))
          .at(50)
          .modify(owner(true))
          .at(51)
          .modify(child("StatefulSet", "orders", true))
          .at(52)
          .delete(owner(true, []))
          .at(60)
          .delete(child("StatefulSet", "orders", true)),
      ctx: {},
      status: "passed",
    },
    {
      name: "fails once all are gone if the owner went while its children stood untouched (a garbage collector cleaned up)",
      build: (t: TraceBuilder) =>
        t
          .at(1)
          .add(owner())
          .add(child("Secret", "orders-credentials"))
          .add(child("StatefulSet", "orders"))
          .at(50)
          .modify(owner(true))
          .at(52)
          .delete(owner(true, []))
          .at(53)
          .delete(child("Secret", "orders-credentials"))
          .at(54)
          .delete(child("StatefulSet", "orders")),
      ctx: {},
      status: "failed",
      decidedAt: 54,
      actual:
        /^Database orders was gone while Secret orders-credentials, StatefulSet orders still existed without a deletionTimestamp$/,
    },
    {
      name: "fails at the end when the owner went and a child still stands untouched",
      build: (t: TraceBuilder) =>
        t
          .at(1)
          .add(owner())
          .add(child("StatefulSet", "orders"))
          .at(50)
          .modify(owner(true))
          .at(52)
          .delete(owner(true, [])),
      ctx: { final: true, now: 90_000 },
      status: "failed",
      decidedAt: 90_000,
      actual: /^Database orders was gone while StatefulSet orders still existed without a deletionTimestamp$/,
    },
    {
      name: "waits while a child's deletion may still be on its way (the owner's arrived first)",
      build: (t: TraceBuilder) =>
        t
          .at(1)
          .add(owner())
          .add(child("StatefulSet", "orders"))
          .at(50)
          .modify(owner(true))
          .at(52)
          .delete(owner(true, [])),
      ctx: {},
      status: "pending",
    },
    {
      name: "judges by revision, not by arrival: a child deletion delivered late still came first",
      build: (t: TraceBuilder) => {
        t.at(1).add(owner()).add(child("StatefulSet", "orders")).at(50).modify(owner(true));
        const before = t.lastRv() + 1;
        t.at(52)
          .delete(owner(true, []), { rv: before + 1 })
          .at(53)
          .delete(child("StatefulSet", "orders"), { rv: before });
      },
      ctx: {},
      status: "passed",
    },
  ])("$name", ({ build, ctx, status, decidedAt, actual }) => {
    const t = createTraceBuilder();
    build(t);
    const verdict = evaluate(cleanup, t.context(ctx as Partial<CheckContext>));
    expect(verdict.status).toBe(status);
    if (decidedAt !== undefined && verdict.status !== "pending") expect(verdict.decidedAt).toBe(decidedAt);
    if (verdict.status === "failed" && actual) expect(verdict.actual).toMatch(actual);
  });

  it("is off by default: a child removed after its owner passes", () => {
    const plain = ParamsSchema.parse({ objects: [{ kind: "Database", name: "orders" }], owned: true });
    const t = createTraceBuilder()
      .at(1)
      .add(owner())
      .add(child("StatefulSet", "orders"))
      .at(52)
      .delete(owner(true, []))
      .at(53)
      .delete(child("StatefulSet", "orders"));
    expect(evaluate(plain, t.context({})).status).toBe("passed");
  });
});
