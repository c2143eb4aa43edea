import { describe, expect, it } from "vitest";
import type { ProbeResult } from "../trace.ts";
import { createTraceBuilder } from "../trace-builder.ts";
import { ParamsSchema, evaluate, probe, type Params } from "./admission.ts";

const manifest = (spec: Record<string, unknown>) => ({
  apiVersion: "database.example.com/v1",
  kind: "Backup",
  metadata: { name: "probe", namespace: "ns" },
  spec,
});

const retentionZero = ParamsSchema.parse({
  manifest: manifest({ databaseRef: { name: "db" }, retention: 0 }),
  outcome: "rejected",
  messagePattern: "retention",
});
const defaults = ParamsSchema.parse({
  manifest: manifest({ databaseRef: { name: "db" } }),
  outcome: "accepted",
  expr: "self.spec.retention == 5",
  expected: "spec.retention defaults to 5",
});

const rejected = (message: string): ProbeResult => ({ kind: "admission", at: 7, accepted: false, message });
const accepted = (spec: Record<string, unknown>): ProbeResult => ({
  kind: "admission",
  at: 7,
  accepted: true,
  message: "",
  object: manifest(spec),
});
const RETENTION_MESSAGE =
  'Backup.database.example.com "probe" is invalid: spec.retention: Invalid value: 0: spec.retention in body should be greater than or equal to 1';

interface Case {
  name: string;
  params: Params;
  result?: ProbeResult;
  final?: boolean;
  status: "pending" | "passed" | "failed";
  actual?: RegExp;
}

const cases: Case[] = [
  {
    name: "passes when rejected for the expected reason",
    params: retentionZero,
    result: rejected(RETENTION_MESSAGE),
    status: "passed",
  },
  {
    name: "fails when accepted",
    params: retentionZero,
    result: accepted({ retention: 0 }),
    status: "failed",
    actual: /^it was accepted$/,
  },
  {
    name: "fails when rejected for another reason",
    params: retentionZero,
    result: rejected('no matches for kind "Backup" in version "database.example.com/v1"'),
    status: "failed",
    actual: /no matches for kind/,
  },
  {
    name: "passes when the defaulted object fits",
    params: defaults,
    result: accepted({ databaseRef: { name: "db" }, retention: 5 }),
    status: "passed",
  },
  {
    name: "fails when no default was applied, showing what was stored",
    params: defaults,
    result: accepted({ databaseRef: { name: "db" } }),
    status: "failed",
    actual: /stored spec \{"databaseRef":\{"name":"db"\}\}/,
  },
  {
    name: "fails when an acceptable manifest is rejected",
    params: defaults,
    result: rejected("denied"),
    status: "failed",
    actual: /rejected: denied/,
  },
  { name: "stays pending until the probe ran", params: defaults, status: "pending" },
  {
    name: "fails at the deadline without a probe result",
    params: defaults,
    final: true,
    status: "failed",
    actual: /no result/,
  },
];

describe("admission check", () => {
  it.each(cases)("$name", ({ params, result, final, status, actual }) => {
    const ctx = createTraceBuilder().context({ final: final ?? false, ...(result ? { probe: result } : {}) });
    const verdict = evaluate(params, ctx);
    expect(verdict.status).toBe(status);
    if (verdict.status === "failed" && actual) expect(verdict.actual).toMatch(actual);
  });

  it("asks the runner for a dry-run of the manifest", () => {
    expect(probe(defaults)).toEqual({ kind: "admission", manifest: manifest({ databaseRef: { name: "db" } }) });
  });

  it("asks for the dry-run again until its outcome holds only when the lab says so", () => {
    expect(probe({ ...defaults, untilOutcome: true })).toMatchObject({ kind: "admission", untilOutcome: true });
    expect(probe(defaults)).not.toHaveProperty("untilOutcome");
  });

  it("refuses an expression on a manifest that must be rejected", () => {
    expect(ParamsSchema.safeParse({ ...retentionZero, expr: "true" }).success).toBe(false);
  });
});
